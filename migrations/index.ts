import { InitialSchema1795409209714 } from './1795409209714-InitialSchema';
import { ServiceAccountClients1795409490369 } from './1795409490369-ServiceAccountClients';
import { ProviderCatalogue1795500000016 } from './1795500000016-ProviderCatalogue';
import { ScaleSchedule1795500017000 } from './1795500017000-ScaleSchedule';
import { AdminIdentities1796185896930 } from './1796185896930-AdminIdentities';
import { RefreshRecord1796300000000 } from './1796300000000-RefreshRecord';
import { AdminTokenLineage1796500000000 } from './1796500000000-AdminTokenLineage';

/** Every migration, in order. The one source of the schema. */
export const migrations = [
  InitialSchema1795409209714,
  ServiceAccountClients1795409490369,
  ProviderCatalogue1795500000016,
  ScaleSchedule1795500017000,
  AdminIdentities1796185896930,
  RefreshRecord1796300000000,
  AdminTokenLineage1796500000000,
];
