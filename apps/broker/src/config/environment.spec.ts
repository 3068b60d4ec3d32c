import { EnvironmentError, validateEnvironment } from './environment';

const KEYS = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
const ADMIN = 'a'.repeat(32);

function problem(raw: Record<string, string>): string {
  try {
    validateEnvironment(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('validateEnvironment', () => {
  it('applies the contract defaults', () => {
    const env = validateEnvironment({ BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: ADMIN });
    expect(env.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/broker');
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.BROKER_PUBLIC_URL).toBe('http://localhost:3000');
    expect(env.redirectUri).toBe('http://localhost:3000/oauth/callback');
    expect(env.PORT).toBe(3000);
    expect(env.BROKER_HOST).toBe('0.0.0.0');
    expect(env.BROKER_ROLE).toBe('all');
    expect(env.BROKER_AUTO_MIGRATE).toBe(true);
  });

  it('reads typed values', () => {
    const env = validateEnvironment({
      BROKER_ENCRYPTION_KEYS: KEYS,
      BROKER_ADMIN_API: 'false',
      PORT: '8080',
      BROKER_ROLE: 'worker',
      BROKER_AUTO_MIGRATE: 'false',
      BROKER_PUBLIC_URL: 'https://broker.example.com/',
    });
    expect(env.PORT).toBe(8080);
    expect(env.runsWorker && !env.servesApi).toBe(true);
    expect(env.BROKER_AUTO_MIGRATE).toBe(false);
    expect(env.redirectUri).toBe('https://broker.example.com/oauth/callback');
  });

  it.each([
    [{}, 'BROKER_ENCRYPTION_KEYS is required'],
    [{ BROKER_ENCRYPTION_KEYS: 'k1:short' }, 'BROKER_ENCRYPTION_KEYS: key "k1"'],
    [{ BROKER_ENCRYPTION_KEYS: KEYS }, 'BROKER_ADMIN_TOKEN is required'],
    [
      { BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: 'short' },
      'BROKER_ADMIN_TOKEN must be at least 32 characters',
    ],
    [{ BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: ADMIN, PORT: 'eighty' }, 'PORT'],
    [{ BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: ADMIN, BROKER_ROLE: 'both' }, 'BROKER_ROLE'],
    [{ BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: ADMIN, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [
      { BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: ADMIN, BROKER_AUTO_MIGRATE: 'maybe' },
      'BROKER_AUTO_MIGRATE',
    ],
    [
      { BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_OIDC_ISSUER: 'https://idp.example.com' },
      'BROKER_ADMIN_OIDC_ISSUER and BROKER_ADMIN_OIDC_CLIENT_ID are required together',
    ],
    [
      { BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: ADMIN, BROKER_ADMIN_OIDC_ISSUER: 'not a url' },
      'BROKER_ADMIN_OIDC_ISSUER',
    ],
    [
      {
        BROKER_ENCRYPTION_KEYS: KEYS,
        BROKER_ADMIN_OIDC_ISSUER: 'http://idp.example.com',
        BROKER_ADMIN_OIDC_CLIENT_ID: 'broker',
      },
      'BROKER_ADMIN_OIDC_ISSUER must use https (plain http is allowed for loopback hosts only)',
    ],
    [
      { BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: ADMIN, BROKER_ADMIN_OIDC_ROLE_MAP: 'root=wheel' },
      'BROKER_ADMIN_OIDC_ROLE_MAP: "root" is not a role',
    ],
    [
      { BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: ADMIN, BROKER_ADMIN_OIDC_ROLE_MAP: 'admin' },
      'BROKER_ADMIN_OIDC_ROLE_MAP: "admin" is not role=group',
    ],
  ])('stops on %p with one line naming the variable', (raw, expected) => {
    const message = problem(raw as Record<string, string>);
    expect(message).toContain(expected);
    expect(message).not.toContain('\n');
    expect(message).not.toContain(Buffer.alloc(32, 1).toString('base64'));
  });

  it('starts without the bootstrap token once sign-in is configured', () => {
    const env = validateEnvironment({
      BROKER_ENCRYPTION_KEYS: KEYS,
      BROKER_ADMIN_OIDC_ISSUER: 'https://idp.example.com',
      BROKER_ADMIN_OIDC_CLIENT_ID: 'token-broker',
      BROKER_ADMIN_OIDC_ROLE_MAP: 'admin=token-broker-admins, viewer=engineering',
    });
    expect(env.BROKER_ADMIN_TOKEN).toBeUndefined();
    expect(env.adminSignInEnabled).toBe(true);
    expect(env.BROKER_ADMIN_OIDC_ROLES_CLAIM).toBe('groups');
    expect(env.BROKER_ADMIN_OIDC_AUDIENCE).toBeUndefined();
  });
});

describe('BROKER_TRUSTED_PROXIES', () => {
  const base = { BROKER_ENCRYPTION_KEYS: KEYS, BROKER_ADMIN_TOKEN: ADMIN };

  it('trusts no proxy by default', () => {
    expect(validateEnvironment(base).trustedProxies).toBe(false);
  });

  it('reads addresses, CIDRs and proxy-addr names', () => {
    const env = validateEnvironment({
      ...base,
      BROKER_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8,192.0.2.1,loopback',
    });
    expect(env.trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8', '192.0.2.1', 'loopback']);
  });

  it.each(['10.0.0.0/33', 'ingress.local', '10.0.0.1/8/1', '::1/129'])('refuses %s', (entry) => {
    expect(problem({ ...base, BROKER_TRUSTED_PROXIES: entry })).toMatch(/^BROKER_TRUSTED_PROXIES must be/);
  });
});

describe('BROKER_WEBHOOK_URL', () => {
  const base = {
    BROKER_ENCRYPTION_KEYS: KEYS,
    BROKER_ADMIN_TOKEN: ADMIN,
    BROKER_WEBHOOK_SECRET: 's'.repeat(16),
  };

  it('refuses plain http outside loopback', () => {
    expect(problem({ ...base, BROKER_WEBHOOK_URL: 'http://hooks.example.com/broker' })).toBe(
      'BROKER_WEBHOOK_URL must use https (plain http is allowed for loopback hosts only)',
    );
  });

  it.each(['https://hooks.example.com/broker', 'http://127.0.0.1:9000/hook', 'http://localhost/hook'])(
    'accepts %s',
    (url) => {
      expect(validateEnvironment({ ...base, BROKER_WEBHOOK_URL: url }).BROKER_WEBHOOK_URL).toBe(url);
    },
  );
});
