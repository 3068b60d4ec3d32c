import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInjectorEnvironment } from './environment';

const required = {
  INJECTOR_AGENT_IMAGE: 'ghcr.io/example/token-broker:0.1.0',
  INJECTOR_BROKER_URL: 'http://token-broker.token-broker.svc:3000',
};

describe('parseInjectorEnvironment', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'injector-env-'));
    writeFileSync(join(dir, 'tls.crt'), 'cert');
    writeFileSync(join(dir, 'tls.key'), 'key');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has defaults: audience token-broker, port 8443, plain http when no TLS files are set', () => {
    expect(parseInjectorEnvironment(required)).toEqual({
      agentImage: required.INJECTOR_AGENT_IMAGE,
      brokerUrl: required.INJECTOR_BROKER_URL,
      tokenAudience: 'token-broker',
      tls: null,
      port: 8443,
      logLevel: 'info',
    });
  });

  it('takes both TLS files, the port and the audience', () => {
    const env = parseInjectorEnvironment({
      ...required,
      INJECTOR_TLS_CERT_FILE: join(dir, 'tls.crt'),
      INJECTOR_TLS_KEY_FILE: join(dir, 'tls.key'),
      INJECTOR_TOKEN_AUDIENCE: 'broker.example',
      PORT: '9443',
    });
    expect(env.tls).toEqual({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
    expect(env.port).toBe(9443);
    expect(env.tokenAudience).toBe('broker.example');
  });

  it.each([
    [{ INJECTOR_AGENT_IMAGE: undefined }, /^INJECTOR_AGENT_IMAGE is required/],
    [{ INJECTOR_AGENT_IMAGE: 'image; rm -rf /' }, /^INJECTOR_AGENT_IMAGE is not an image reference/],
    [{ INJECTOR_BROKER_URL: undefined }, /^INJECTOR_BROKER_URL is required/],
    [{ INJECTOR_BROKER_URL: 'token-broker:80' }, /^INJECTOR_BROKER_URL must be an http\(s\) URL/],
    [{ INJECTOR_BROKER_URL: 'not a url' }, /^INJECTOR_BROKER_URL must be an absolute/],
    [{ INJECTOR_BROKER_URL: 'http://u:p@token-broker' }, /^INJECTOR_BROKER_URL must not carry credentials/],
    [{ INJECTOR_TOKEN_AUDIENCE: 'two words' }, /^INJECTOR_TOKEN_AUDIENCE/],
    [
      { INJECTOR_TLS_CERT_FILE: '/etc/hostname' },
      /^INJECTOR_TLS_KEY_FILE is required with INJECTOR_TLS_CERT_FILE/,
    ],
    [
      { INJECTOR_TLS_KEY_FILE: '/etc/hostname' },
      /^INJECTOR_TLS_CERT_FILE is required with INJECTOR_TLS_KEY_FILE/,
    ],
    [
      { INJECTOR_TLS_CERT_FILE: '/nonexistent/tls.crt', INJECTOR_TLS_KEY_FILE: '/etc/hostname' },
      /^INJECTOR_TLS_CERT_FILE \(\/nonexistent\/tls.crt\) cannot be read/,
    ],
    [{ PORT: '70000' }, /^PORT must be an integer from 0 to 65535/],
    [{ INJECTOR_AGENT_IMAGES: 'x' }, /^INJECTOR_AGENT_IMAGES is not a known variable/],
    [{ INJECTOR_LOG_LEVEL: 'loud' }, /^INJECTOR_LOG_LEVEL must be one of/],
  ])('refuses %j, naming the variable', (override, message) => {
    expect(() => parseInjectorEnvironment({ ...required, ...override })).toThrow(message);
  });
});
