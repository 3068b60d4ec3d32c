/** Integration and connection keys: chosen by the admin, safe in URLs, logs and metric labels. */
export const RESOURCE_KEY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const RESOURCE_KEY_RULE =
  'must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit';
