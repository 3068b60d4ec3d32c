import { CONNECTION_KEY_PATTERN } from '@broker/token-api';

/** Integration and connection keys: chosen by the admin, safe in URLs, logs and metric labels (shared with the agent). */
export const RESOURCE_KEY_PATTERN = CONNECTION_KEY_PATTERN;
export const RESOURCE_KEY_RULE =
  'must be 1-63 characters of a-z, 0-9, "_" or "-", starting with a letter or digit';
