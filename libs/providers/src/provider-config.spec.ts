import { isLoopbackUrl, ProviderConfigError, resolveProvider } from './provider-config';

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
    [{ provider: 'bloomerang', audience: 'x' }, 'audience applies to provider "bloom" only'],
    [
      { provider: 'bloom', audience: 'a', scopes: ['s'], tokenAuthMethod: 'client_secret_basic' },
      'tokenAuthMethod applies',
    ],
  ])('refuses %p', (config, message) => {
    expect(() => resolveProvider(config as never)).toThrow(ProviderConfigError);
    expect(() => resolveProvider(config as never)).toThrow(message);
  });

  it('allows plain http on loopback hosts only', () => {
    for (const url of [
      'http://localhost:4000/t',
      'http://127.0.0.1/t',
      'http://127.8.9.1/t',
      'http://[::1]:80/t',
    ]) {
      expect(isLoopbackUrl(url)).toBe(true);
      expect(() =>
        resolveProvider({ provider: 'oauth2', grantType: 'client_credentials', tokenUrl: url }),
      ).not.toThrow();
    }
    for (const url of ['http://10.0.0.1/t', 'http://localhost.example.com/t', 'http://128.0.0.1/t']) {
      expect(isLoopbackUrl(url)).toBe(false);
    }
  });
});
