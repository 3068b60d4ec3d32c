import { InitialSchema1795409209714 } from './1795409209714-InitialSchema';

/** Every migration, in order. The one source of the schema. */
export const migrations = [InitialSchema1795409209714];
