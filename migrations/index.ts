/** Every migration, in order. The one source of the schema. */
export const migrations = [];
