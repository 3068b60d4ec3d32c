import { InitialSchema1795409209714 } from './1795409209714-InitialSchema';
import { ServiceAccountClients1795409490369 } from './1795409490369-ServiceAccountClients';
import { ProviderCatalogue1795500000016 } from './1795500000016-ProviderCatalogue';

/** Every migration, in order. The one source of the schema. */
export const migrations = [
  InitialSchema1795409209714,
  ServiceAccountClients1795409490369,
  ProviderCatalogue1795500000016,
];
