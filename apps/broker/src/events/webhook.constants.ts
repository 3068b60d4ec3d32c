export const WEBHOOK_QUEUE = 'webhooks';
export const WEBHOOK_JOB = 'deliver-event';

export type ConnectionEventType =
  'connection.needs_reauthorization' | 'connection.recovered' | 'connection.error';

/** The JSON body POSTed to BROKER_WEBHOOK_URL. Never a token or secret. */
export interface ConnectionEventPayload {
  id: string;
  type: ConnectionEventType;
  occurredAt: string;
  connection: { key: string; integration: string; status: string; lastError: string | null };
}

export const SIGNATURE_HEADER = 'x-broker-signature';
