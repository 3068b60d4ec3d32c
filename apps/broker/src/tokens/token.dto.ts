export class TokenView {
  /** The upstream access token. */
  accessToken: string;
  /** @example "Bearer" */
  tokenType: string;
  /** When the token expires. */
  expiresAt: string;
  /**
   * Seconds left at the time of the answer.
   * @example 3540
   */
  expiresIn: number;
  /** @example "OrgAdmin" */
  scope: string | null;
}
