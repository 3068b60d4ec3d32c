import { InitialSchema1795409209714 } from './1795409209714-InitialSchema';
import { ServiceAccountClients1795409490369 } from './1795409490369-ServiceAccountClients';
import { AdminIdentities1796185896930 } from './1796185896930-AdminIdentities';

/** Every migration, in order. The one source of the schema. */
export const migrations = [
  InitialSchema1795409209714,
  ServiceAccountClients1795409490369,
  AdminIdentities1796185896930,
];
