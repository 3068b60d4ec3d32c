import { readSandboxEnv, SandboxEnvError } from './env';

describe('readSandboxEnv', () => {
  it('defaults to 127.0.0.1:4000 and leaves the settings to the sandbox', () => {
    expect(readSandboxEnv({})).toEqual({
      port: 4000,
      host: '127.0.0.1',
      options: {
        autoApprove: undefined,
        accessTokenTtlSeconds: undefined,
        refreshTokenTtlSeconds: undefined,
        bloomTokenTtlSeconds: undefined,
        tokenLatencyMs: undefined,
        maxRecordsPerKind: undefined,
      },
    });
  });

  it('reads every variable', () => {
    const env = readSandboxEnv({
      SANDBOX_PORT: '0',
      SANDBOX_HOST: '0.0.0.0',
      SANDBOX_AUTO_APPROVE: 'TRUE',
      SANDBOX_ACCESS_TOKEN_TTL: '60',
      SANDBOX_REFRESH_TOKEN_TTL: '600',
      SANDBOX_BLOOM_TOKEN_TTL: '120',
      SANDBOX_TOKEN_LATENCY_MS: '0',
      SANDBOX_MAX_RECORDS: '2000000',
    });
    expect(env).toEqual({
      port: 0,
      host: '0.0.0.0',
      options: {
        autoApprove: true,
        accessTokenTtlSeconds: 60,
        refreshTokenTtlSeconds: 600,
        bloomTokenTtlSeconds: 120,
        tokenLatencyMs: 0,
        maxRecordsPerKind: 2_000_000,
      },
    });
  });

  it('treats blank variables as unset', () => {
    expect(readSandboxEnv({ SANDBOX_PORT: ' ', SANDBOX_AUTO_APPROVE: '' })).toMatchObject({ port: 4000 });
  });

  it.each([
    ['SANDBOX_PORT', '70000'],
    ['SANDBOX_PORT', '80a'],
    ['SANDBOX_AUTO_APPROVE', 'yes'],
    ['SANDBOX_ACCESS_TOKEN_TTL', '0'],
    ['SANDBOX_REFRESH_TOKEN_TTL', '1.5'],
    ['SANDBOX_MAX_RECORDS', '0'],
    ['SANDBOX_BLOOM_TOKEN_TTL', '-5'],
    ['SANDBOX_TOKEN_LATENCY_MS', 'slow'],
  ])('refuses %s=%s with one line naming the variable', (name, value) => {
    const read = () => readSandboxEnv({ [name]: value });
    expect(read).toThrow(SandboxEnvError);
    expect(read).toThrow(new RegExp(`^${name} must be .*, got "${value}"\\.$`));
  });
});
