import pino from 'pino';
import { startAgent, RunningAgent } from './agent';
import { AgentEnvironmentError, parseAgentEnvironment } from './environment';

const BASE = { AGENT_BROKER_URL: 'http://127.0.0.1:9', AGENT_API_KEY: 'tb_test' };

describe('agent hardening settings', () => {
  it('reads AGENT_REQUIRE_HEADER as "Name: value" and AGENT_CACHE_MAX_CONNECTIONS', () => {
    const env = parseAgentEnvironment({
      ...BASE,
      AGENT_REQUIRE_HEADER: 'Metadata-Flavor: token-agent',
      AGENT_CACHE_MAX_CONNECTIONS: '200',
    });
    expect(env.requireHeader).toEqual({ name: 'metadata-flavor', value: 'token-agent' });
    expect(env.cacheMaxConnections).toBe(200);
    const defaults = parseAgentEnvironment(BASE);
    expect(defaults.requireHeader).toBeNull();
    expect(defaults.cacheMaxConnections).toBe(1_000);
  });

  it.each(['Metadata-Flavor', 'Bad Name: x', ': x', 'Name:'])('refuses AGENT_REQUIRE_HEADER=%j', (raw) => {
    expect(() => parseAgentEnvironment({ ...BASE, AGENT_REQUIRE_HEADER: raw })).toThrow(
      new AgentEnvironmentError(
        'AGENT_REQUIRE_HEADER must be "Name: value", e.g. "Metadata-Flavor: token-agent"',
      ),
    );
  });

  describe('with a required header', () => {
    let agent: RunningAgent;
    beforeAll(async () => {
      const env = parseAgentEnvironment({
        ...BASE,
        AGENT_PORT: '0',
        AGENT_BROKER_TIMEOUT_MS: '200',
        AGENT_REQUIRE_HEADER: 'Metadata-Flavor: token-agent',
      });
      agent = await startAgent(env, pino({ level: 'silent' }));
    });
    afterAll(() => agent.close());

    it('answers /tokens/* 400 without the header or with another value, and asks nothing of the broker', async () => {
      for (const headers of [{}, { 'metadata-flavor': 'other' }] as Record<string, string>[]) {
        const response = await fetch(`${agent.url}/tokens/conn-1`, { headers });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({
          statusCode: 400,
          error: 'bad_request',
          message: 'token requests must carry the metadata-flavor header this agent requires',
        });
      }
      expect(agent.cache.size).toBe(0);
    });

    it('serves a request carrying it (here 503: no broker), and health without it', async () => {
      const response = await fetch(`${agent.url}/tokens/conn-1`, {
        headers: { 'Metadata-Flavor': 'token-agent' },
      });
      expect(response.status).toBe(503);
      expect((await fetch(`${agent.url}/health/live`)).status).toBe(200);
    });
  });
});
