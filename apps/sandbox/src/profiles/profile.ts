/**
 * A provider profile: what one catalogue provider documents about its OAuth endpoints, as data. The profile
 * engine (engine.ts) serves every profile under `/<id>/` and enforces exactly these rules, so the broker's
 * tests meet what the real provider would refuse. Each data file in `catalogue/` cites the pages it follows.
 */

/** How a token endpoint takes the client's credentials. */
export type ClientAuthentication = 'basic' | 'post' | 'basic-or-post';

/**
 * What happens to a refresh token once it has been exchanged:
 * - `none`: the same token stays valid and keeps being used (its unused lifetime restarts at each use);
 * - `keep-old`: a new token comes with every refresh, the old one stays valid until it expires;
 * - `until-successor-used`: a new token comes with every refresh, the old one stays valid until the new one
 *   has been used;
 * - `single-use`: the old one is dead at once; presenting it again is refused with invalid_grant;
 * - `grace`: the old one is accepted again only within `graceSeconds` of its first use;
 * - `lineage`: presenting a spent token revokes every token of the grant, access tokens included.
 */
export type RotationKind = 'none' | 'keep-old' | 'until-successor-used' | 'single-use' | 'grace' | 'lineage';

export interface RefreshTokenRules {
  readonly rotation: RotationKind;
  /** `grace` only: how long a spent token is still accepted (a setting can shorten it for tests). */
  readonly graceSeconds?: number;
  /** `grace` only: a spent token presented after the window revokes every refresh token of the grant. */
  readonly revokeGrantOnLateReuse?: boolean;
  /** `none` only: whether the refresh answer repeats the refresh token (`same`) or leaves it out. */
  readonly refreshAnswer?: 'same' | 'omitted';
  /** A refresh token not used for this long expires. */
  readonly unusedTtlSeconds?: number;
  /** Every refresh token of a grant expires this long after the grant (whatever the use). */
  readonly absoluteTtlSeconds?: number;
  /** The answer field telling the refresh token's remaining lifetime, where the provider sends one. */
  readonly expiresInField?: 'refresh_token_expires_in' | 'x_refresh_token_expires_in' | 'refresh_expires_in';
  /** A refresh also ends the access tokens issued before it (GitHub: "the old user access token"). */
  readonly revokesEarlierAccessTokens?: boolean;
  /** `grace` only: a refresh ends the access tokens issued before it once the reuse interval has passed (Atlassian). */
  readonly endsEarlierAccessTokensAfterGrace?: boolean;
  /** While the client app is in testing status (tunable `testingApp`), every refresh token expires this long after the grant (Google: 7 days). */
  readonly testingAppTtlSeconds?: number;
  /** Live refresh tokens per account and client; issuing one more removes the oldest grant's (Zoho: 20). */
  readonly maxPerAccount?: number;
}

/**
 * When a code exchange yields a refresh token at all. Every condition given must hold; with none given a
 * refresh token always comes with the code exchange.
 */
export interface RefreshTokenIssuance {
  /** Authorization request parameters needed, e.g. Google's `access_type=offline`. */
  readonly authorizationParams?: Readonly<Record<string, string>>;
  /**
   * Needed in addition once the account has granted this client a refresh token before, e.g. Google's
   * `prompt=consent`: without it the later authorization yields an access token only.
   */
  readonly againParams?: Readonly<Record<string, string>>;
  /** A scope the authorization must include, e.g. X's `offline.access`. */
  readonly scope?: string;
  /** Scopes of which the authorization must include one, e.g. Salesforce's `refresh_token` or `offline_access`. */
  readonly anyScope?: readonly string[];
  /** Token request parameters needed on the code exchange, e.g. Shopify's `expiring=1`. */
  readonly exchangeParams?: Readonly<Record<string, string>>;
}

/** The JSON shape of token endpoint answers. */
export type AnswerShape =
  /** RFC 6749: errors with a 4xx status and `{ error, error_description }`. */
  | 'oauth'
  /** Slack Web API: always HTTP 200; `{ ok: true, ... }` or `{ ok: false, error }`. */
  | 'slack'
  /** GitHub: errors with HTTP 200 and `{ error, error_description, error_uri }`; JSON only on Accept. */
  | 'github'
  /** Zoho: errors with HTTP 200 and `{ error }`. */
  | 'zoho';

/**
 * A JSON value sent in an answer; strings may hold placeholders: `{sandbox}` (the sandbox's own origin),
 * `{host}` (the per-connection host value), `{account}` (the connected account), `{accountId}` (a stable
 * id derived from it), `{now}` (milliseconds since the epoch).
 */
export type Template = string | number | boolean | null | { readonly [name: string]: Template };

export interface ProviderProfile {
  readonly id: string;
  readonly name: string;
  /** The provider documentation pages this profile follows. */
  readonly docs: readonly string[];
  /** A per-connection host (Shopify shop, Zendesk subdomain...) served as a path segment after the id. */
  readonly host?: { readonly name: string; readonly pattern: string };
  readonly clientAuthentication: ClientAuthentication;
  readonly grantTypes: readonly ('authorization_code' | 'client_credentials')[];
  /** `required`: S256 only, refused without it; `supported`: S256 or plain when the client sends one. */
  readonly pkce: 'required' | 'supported' | 'none';
  readonly scopes: {
    readonly separator: ' ' | ',';
    /** Scopes the provider knows; others are refused with invalid_scope. Absent: any scope. */
    readonly known?: readonly string[];
    /** Whether an authorization request without scope is refused. */
    readonly required?: boolean;
  };
  /** Authorization request parameters that must be present with exactly these values. */
  readonly requiredAuthorizationParams?: Readonly<Record<string, string>>;
  readonly refreshTokenIssuance?: RefreshTokenIssuance;
  readonly accessToken: {
    readonly ttlSeconds: number;
    /** False where the answer carries no `expires_in` (Salesforce). */
    readonly reportsExpiresIn: boolean;
    readonly tokenType: string;
  };
  readonly refreshToken: RefreshTokenRules;
  /** A refresh is refused while the grant's newest access token has more than this many seconds left. */
  readonly earliestRefreshSeconds?: number;
  readonly answerShape: AnswerShape;
  /** Extra fields of every token answer (Salesforce `instance_url`, Dropbox `account_id`...). */
  readonly tokenAnswerExtras?: Readonly<Record<string, Template>>;
  /** Extra query parameters on the redirect back with a code (QuickBooks `realmId`...). */
  readonly callbackExtras?: Readonly<Record<string, string>>;
  /** Shopify signs the callback query with the client secret (HMAC-SHA256, hex, `hmac` parameter). */
  readonly signsCallback?: boolean;
}

/** The settings a test may change per profile through `/_sandbox/config` (`profiles: { <id>: {...} }`). */
export interface ProfileTunables {
  readonly accessTokenTtlSeconds?: number;
  readonly graceSeconds?: number;
  readonly refreshTokenUnusedTtlSeconds?: number;
  readonly earliestRefreshSeconds?: number;
  /** 1: the seeded client app is in testing status (Google), so `testingAppTtlSeconds` applies. */
  readonly testingApp?: number;
}

export const PROFILE_TUNABLES: readonly (keyof ProfileTunables)[] = [
  'accessTokenTtlSeconds',
  'graceSeconds',
  'refreshTokenUnusedTtlSeconds',
  'earliestRefreshSeconds',
  'testingApp',
];
