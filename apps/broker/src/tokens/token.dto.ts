export class TokenView {
  /**
   * The upstream access token.
   * @example "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhY21lIn0.c2lnbmF0dXJl"
   */
  accessToken: string;
  /** @example "Bearer" */
  tokenType: string;
  /**
   * When the token expires.
   * @example "2026-06-01T12:00:00.000Z"
   */
  expiresAt: string;
  /**
   * Seconds left at the time of the answer.
   * @example 3540
   */
  expiresIn: number;
  /** @example "OrgAdmin" */
  scope: string | null;
  /**
   * Fields the provider's catalogue entry keeps from its answers, under the provider's own names;
   * present only when the entry keeps any. Never a secret.
   * @example { "instance_url": "https://acme.my.salesforce.com" }
   */
  metadata?: Record<string, unknown>;
}
