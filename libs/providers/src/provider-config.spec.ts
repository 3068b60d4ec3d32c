import { checkClientId, isLoopbackUrl, ProviderConfigError, resolveProvider } from './provider-config';

describe('resolveProvider', () => {
  it('applies the Bloomerang defaults from the seed', () => {
    expect(resolveProvider({ provider: 'bloomerang', scopes: ['OrgAdmin'] })).toMatchObject({
      grantType: 'authorization_code',
      authorizationUrl: 'https://crm.bloomerang.co/Authorize',
      tokenUrl: 'https://api.bloomerang.co/v2/oauth/token',
      tokenAuthMethod: 'client_secret_basic',
      scopes: ['OrgAdmin'],
      refreshTokenLifetimeSeconds: 90 * 86_400,
    });
  });

  it('leaves the Bloomerang scope out by default and honours endpoint overrides', () => {
    const resolved = resolveProvider({
      provider: 'bloomerang',
      authorizationUrl: 'http://127.0.0.1:4000/bloomerang/Authorize',
      tokenUrl: 'http://localhost:4000/bloomerang/v2/oauth/token',
    });
    expect(resolved).toEqual({
      kind: 'bloomerang',
      grantType: 'authorization_code',
      authorizationUrl: 'http://127.0.0.1:4000/bloomerang/Authorize',
      tokenUrl: 'http://localhost:4000/bloomerang/v2/oauth/token',
      tokenAuthMethod: 'client_secret_basic',
      basicAuthEncoding: 'raw',
      scopes: [],
      sendScopeOnTokenRequest: false,
      extraTokenParams: {},
      refreshTokenLifetimeSeconds: 7_776_000,
      refreshTokenRotation: 'single_use',
      expectsRefreshToken: true,
    });
  });

  it('defaults Bloom to v2 on the sandbox environment', () => {
    expect(
      resolveProvider({ provider: 'bloom', audience: 'dev-api.bloom.dev', scopes: ['data-access:all'] }),
    ).toEqual({
      kind: 'bloom',
      grantType: 'client_credentials',
      tokenUrl: 'https://authn.bloom.dev/oauth2/token',
      tokenAuthMethod: 'client_secret_post',
      basicAuthEncoding: 'form',
      scopes: ['data-access:all'],
      sendScopeOnTokenRequest: true,
      audience: 'dev-api.bloom.dev',
      extraTokenParams: { audience: 'dev-api.bloom.dev' },
    });
  });

  it('resolves a generic provider with client_secret_basic by default and its extra parameters', () => {
    const extra = { resource: 'https://api.example' };
    const resolved = resolveProvider({
      provider: 'oauth2',
      grantType: 'authorization_code',
      authorizationUrl: 'https://id.example/authorize?tenant=x',
      tokenUrl: 'https://id.example/token',
      scopes: ['read'],
      extraTokenParams: extra,
    });
    expect(resolved).toMatchObject({
      kind: 'oauth2',
      tokenAuthMethod: 'client_secret_basic',
      basicAuthEncoding: 'form',
      sendScopeOnTokenRequest: true,
      extraTokenParams: extra,
    });
    expect(resolved.extraTokenParams).not.toBe(extra); // a copy, not the stored object
    expect(resolved.refreshTokenLifetimeSeconds).toBeUndefined();
  });

  describe('Basic credentials encoding', () => {
    const generic = {
      provider: 'oauth2',
      grantType: 'client_credentials',
      tokenUrl: 'https://id.example/token',
    } as const;

    it('lets a generic integration choose raw or strict, for client_secret_basic only', () => {
      expect(resolveProvider({ ...generic, basicAuthEncoding: 'raw' }).basicAuthEncoding).toBe('raw');
      expect(resolveProvider({ ...generic, basicAuthEncoding: 'strict' }).basicAuthEncoding).toBe('strict');
      expect(() =>
        resolveProvider({ ...generic, tokenAuthMethod: 'client_secret_post', basicAuthEncoding: 'raw' }),
      ).toThrow('basicAuthEncoding applies to tokenAuthMethod client_secret_basic only');
      expect(() => resolveProvider({ provider: 'bloomerang', basicAuthEncoding: 'form' })).toThrow(
        'basicAuthEncoding applies to provider "oauth2" only',
      );
    });

    it('refuses a client id with ":" where it would travel raw, and only there', () => {
      const message = /clientId must not contain ":"/;
      expect(() => checkClientId(resolveProvider({ provider: 'bloomerang' }), 'a:b')).toThrow(message);
      expect(() => checkClientId(resolveProvider({ ...generic, basicAuthEncoding: 'raw' }), 'a:b')).toThrow(
        ProviderConfigError,
      );
      expect(() => checkClientId(resolveProvider(generic), 'a:b')).not.toThrow();
      expect(() =>
        checkClientId(resolveProvider({ ...generic, tokenAuthMethod: 'client_secret_post' }), 'a:b'),
      ).not.toThrow();
      expect(() =>
        checkClientId(resolveProvider({ provider: 'bloomerang' }), 'blm-client_0.1~a'),
      ).not.toThrow();
    });
  });

  it.each([
    ['v2', 'sandbox', 'https://authn.bloom.dev/oauth2/token'],
    ['v2', 'production', 'https://authn.bloomcredit.io/oauth2/token'],
    ['v1', 'sandbox', 'https://auth.bloom.dev/oauth/token'],
    ['v1', 'production', 'https://auth.bloomcredit.io/oauth/token'],
  ] as const)('resolves Bloom %s %s to %s', (authVersion, environment, tokenUrl) => {
    const resolved = resolveProvider({
      provider: 'bloom',
      audience: 'dev-api.bloom.dev',
      authVersion,
      environment,
      scopes: authVersion === 'v2' ? ['data-access:all'] : undefined,
    });
    expect(resolved).toMatchObject({
      tokenUrl,
      grantType: 'client_credentials',
      tokenAuthMethod: 'client_secret_post',
    });
    expect(resolved.sendScopeOnTokenRequest).toBe(authVersion === 'v2');
    expect(resolved.extraTokenParams).toEqual({ audience: 'dev-api.bloom.dev' });
  });

  it.each([
    [{ provider: 'bloomerang', scopes: ['Standard', 'OrgAdmin'] }, 'at most one scope'],
    [{ provider: 'bloomerang', scopes: ['Everything'] }, 'must be one of Standard'],
    [{ provider: 'bloom', scopes: ['data-access:all'] }, 'audience is required'],
    [{ provider: 'bloom', audience: 'a' }, 'scopes is required'],
    [{ provider: 'bloom', audience: 'a', authVersion: 'v1', scopes: ['x'] }, 'takes no scope'],
    [{ provider: 'oauth2', tokenUrl: 'https://a.example/token' }, 'grantType is required'],
    [{ provider: 'oauth2', grantType: 'client_credentials' }, 'tokenUrl is required'],
    [
      { provider: 'oauth2', grantType: 'authorization_code', tokenUrl: 'https://a.example/token' },
      'authorizationUrl is required',
    ],
    [
      {
        provider: 'oauth2',
        grantType: 'client_credentials',
        tokenUrl: 'https://a.example/t',
        extraTokenParams: { client_secret: 'x' },
      },
      'may not set "client_secret"',
    ],
    [
      { provider: 'oauth2', grantType: 'client_credentials', tokenUrl: 'http://auth.example.com/token' },
      'must use https',
    ],
    [
      { provider: 'oauth2', grantType: 'client_credentials', tokenUrl: 'https://a.example/token#x' },
      'fragment',
    ],
    [
      { provider: 'oauth2', grantType: 'client_credentials', tokenUrl: 'https://u:p@a.example/token' },
      'credentials',
    ],
    [{ provider: 'oauth2', grantType: 'client_credentials', tokenUrl: 'not a url' }, 'absolute URL'],
    [{ provider: 'bloomerang', scopes: ['orgadmin'] }, 'must be one of Standard'],
    [{ provider: 'bloom', audience: '', scopes: ['data-access:all'] }, 'audience is required'],
    [{ provider: 'bloom', audience: 'a', scopes: [] }, 'scopes is required'],
    [
      { provider: 'bloom', audience: 'a', scopes: ['s'], authorizationUrl: 'https://a.example/auth' },
      'Bloom uses client credentials only',
    ],
    ...['grant_type', 'client_id', 'code', 'redirect_uri', 'refresh_token', 'scope', 'code_verifier'].map(
      (name) => [
        {
          provider: 'oauth2',
          grantType: 'client_credentials',
          tokenUrl: 'https://a.example/t',
          extraTokenParams: { [name]: 'x' },
        },
        `may not set "${name}"`,
      ],
    ),
    [{ provider: 'bloomerang', tokenUrl: 'http://api.bloomerang.example/token' }, 'tokenUrl must use https'],
    [
      {
        provider: 'oauth2',
        grantType: 'authorization_code',
        authorizationUrl: 'http://id.example/authorize',
        tokenUrl: 'https://id.example/token',
      },
      'authorizationUrl must use https',
    ],
    [
      { provider: 'bloomerang', authorizationUrl: 'https://crm.example/Authorize#frag' },
      'authorizationUrl must not have a fragment',
    ],
    [
      { provider: 'oauth2', grantType: 'client_credentials', tokenUrl: 'ftp://a.example/t' },
      'must use https',
    ],
    [{ provider: 'oauth2', grantType: 'client_credentials', tokenUrl: 'http://[::2]/t' }, 'must use https'],
    [{ provider: 'bloomerang', audience: 'x' }, 'audience applies to provider "bloom" only'],
    [{ provider: 'bloomerang', environment: 'production' }, 'environment applies to provider "bloom" only'],
    [
      { provider: 'bloomerang', grantType: 'client_credentials' },
      'grantType applies to provider "oauth2" only',
    ],
    [
      { provider: 'bloomerang', extraTokenParams: { a: 'b' } },
      'extraTokenParams applies to provider "oauth2" only',
    ],
    [
      { provider: 'bloom', audience: 'a', scopes: ['s'], grantType: 'client_credentials' },
      'grantType applies to provider "oauth2" only',
    ],
    [
      {
        provider: 'oauth2',
        grantType: 'client_credentials',
        tokenUrl: 'https://a.example/t',
        authVersion: 'v1',
      },
      'authVersion applies to provider "bloom" only',
    ],
    [
      { provider: 'oauth2', grantType: 'client_credentials', tokenUrl: 'https://a.example/t', audience: 'x' },
      'audience applies to provider "bloom" only',
    ],
    [{ provider: 'myspace' }, 'provider "myspace" is not in the catalogue'],
    [
      { provider: 'bloom', audience: 'a', scopes: ['s'], tokenAuthMethod: 'client_secret_basic' },
      'tokenAuthMethod applies',
    ],
  ] as [object, string][])('refuses %p', (config, message) => {
    expect(() => resolveProvider(config as never)).toThrow(ProviderConfigError);
    expect(() => resolveProvider(config as never)).toThrow(message);
  });

  it('allows plain http on loopback hosts only', () => {
    for (const url of [
      'http://localhost:4000/t',
      'http://127.0.0.1/t',
      'http://127.8.9.1/t',
      'http://[::1]:80/t',
      'http://sandbox.localhost:4000/t',
    ]) {
      expect(isLoopbackUrl(url)).toBe(true);
      expect(() =>
        resolveProvider({ provider: 'oauth2', grantType: 'client_credentials', tokenUrl: url }),
      ).not.toThrow();
    }
    for (const url of [
      'http://10.0.0.1/t',
      'http://localhost.example.com/t',
      'http://128.0.0.1/t',
      'http://127.0.0.1.nip.io/t',
      'http://0.0.0.0/t',
      'not a url',
    ]) {
      expect(isLoopbackUrl(url)).toBe(false);
      expect(() =>
        resolveProvider({ provider: 'oauth2', grantType: 'client_credentials', tokenUrl: url }),
      ).toThrow(ProviderConfigError);
    }
  });
});
