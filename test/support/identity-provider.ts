import { createHash, randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWK } from 'jose';
import Provider from 'oidc-provider';

/** The broker's public client at the company's identity provider (Swagger UI signs in with it). */
export const ADMIN_CLIENT_ID = 'token-broker-admin';
export const SIGN_IN_SCOPES = 'openid email profile';

export interface Person {
  email?: string;
  groups: string[];
}

/**
 * The company's OpenID Connect provider, played by `oidc-provider` in the test process on
 * 127.0.0.1: its development login page accepts any password for the logins it knows, the
 * people's groups come in the `groups` claim (of the `profile` scope, in the ID token too), and
 * consent is given in advance for the broker's client, as a company does for its own tools.
 */
export class IdentityProvider {
  private server?: Server;
  private constructor(
    readonly provider: Provider,
    readonly issuer: string,
    readonly signingKey: { privateJwk: JWK; kid: string },
    private readonly port: number,
  ) {}

  static async start(options: {
    redirectUris: string[];
    people: Record<string, Person>;
  }): Promise<IdentityProvider> {
    const port = await freeLoopbackPort();
    const issuer = `http://127.0.0.1:${port}`;
    const kid = `idp-${randomBytes(4).toString('hex')}`;
    const pair = await generateKeyPair('RS256', { extractable: true });
    const privateJwk = { ...(await exportJWK(pair.privateKey)), kid, alg: 'RS256', use: 'sig' };
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: ADMIN_CLIENT_ID,
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: options.redirectUris,
        },
      ],
      jwks: { keys: [privateJwk] },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
      conformIdTokenClaims: false,
      cookies: { keys: [randomBytes(32).toString('hex')] },
      findAccount: async (_ctx: unknown, sub: string) => {
        const person = options.people[sub];
        if (!person) return undefined;
        return {
          accountId: sub,
          claims: async () => ({
            sub,
            name: sub,
            groups: person.groups,
            ...(person.email ? { email: person.email, email_verified: true } : {}),
          }),
        };
      },
      loadExistingGrant: async (ctx: any) => {
        const grantId =
          ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
        if (grantId) return ctx.oidc.provider.Grant.find(grantId);
        const grant = new ctx.oidc.provider.Grant({
          clientId: ctx.oidc.client.clientId,
          accountId: ctx.oidc.session.accountId,
        });
        grant.addOIDCScope(SIGN_IN_SCOPES);
        grant.addOIDCClaims(['groups', 'email', 'email_verified', 'name']);
        await grant.save();
        return grant;
      },
    } as never);
    const idp = new IdentityProvider(provider, issuer, { privateJwk, kid }, port);
    await idp.listen();
    return idp;
  }

  /** Serves (again) on the same port. */
  async listen(): Promise<void> {
    const server = createServer(this.provider.callback());
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Stops answering: the provider is unreachable until `listen()`. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Signs `login` in through the authorization code flow with PKCE, as a browser would (the login
   * page's form, its cookies), and returns the ID token Swagger UI would send.
   */
  async signIn(login: string, redirectUri: string): Promise<string> {
    const cookies = new Map<string, string>();
    const send = async (url: string, init: RequestInit = {}): Promise<Response> => {
      const response = await fetch(url, {
        ...init,
        redirect: 'manual',
        headers: {
          ...(init.headers as Record<string, string>),
          cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        },
      });
      for (const cookie of response.headers.getSetCookie()) {
        const [pair] = cookie.split(';');
        const separator = pair.indexOf('=');
        cookies.set(pair.slice(0, separator), pair.slice(separator + 1));
      }
      return response;
    };
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomBytes(8).toString('hex');
    const authorize = new URL(`${this.issuer}/auth`);
    authorize.search = new URLSearchParams({
      client_id: ADMIN_CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: SIGN_IN_SCOPES,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
    }).toString();
    let location = authorize.href;
    let code: string | null = null;
    for (let hop = 0; hop < 10 && !code; hop++) {
      const url = new URL(location, this.issuer);
      if (url.href.startsWith(redirectUri)) {
        if (url.searchParams.get('state') !== state) throw new Error(`sign-in returned ${url.search}`);
        code = url.searchParams.get('code');
        break;
      }
      const response = await send(url.href);
      if (response.status === 200) {
        const page = await response.text();
        const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
        if (!action || !page.includes('name="login"')) throw new Error(`unexpected page at ${url.pathname}`);
        const submitted = await send(new URL(action.replace(/&amp;/g, '&'), this.issuer).href, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ prompt: 'login', login, password: 'any' }).toString(),
        });
        location = submitted.headers.get('location') ?? '';
      } else {
        location = response.headers.get('location') ?? '';
      }
      if (!location) throw new Error(`sign-in stopped at ${url.pathname} with ${response.status}`);
    }
    if (!code) throw new Error('sign-in gave no code');
    const tokenResponse = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: ADMIN_CLIENT_ID,
        code_verifier: verifier,
      }).toString(),
    });
    const tokens = (await tokenResponse.json()) as { id_token?: string; error?: string };
    if (!tokens.id_token) throw new Error(`token endpoint answered ${tokenResponse.status} ${tokens.error}`);
    return tokens.id_token;
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
