export const CONNECTION_STATUSES = [
  'pending_authorization',
  'active',
  'needs_reauthorization',
  'error',
] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];
