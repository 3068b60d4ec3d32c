import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { Logger } from 'pino';
import {
  CONNECTION_KEY_PATTERN,
  errorBody,
  MIN_VALIDITY_RULE,
  readMinValidity,
  tokenAnswerJson,
} from '@broker/token-api';
import type { AgentEnvironment } from './environment';
import { AgentMetrics } from './agent-metrics';
import { BrokerApi } from './broker-api';
import { BrokerClient } from './broker-client';
import { CredentialSource } from './credential';
import { Readiness } from './readiness';
import { TokenCache } from './token-cache';

/** The broker's token API sends these with every JSON answer; the agent answers alike. */
const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'x-content-type-options': 'nosniff',
};
const TOKEN_HEADERS = { ...JSON_HEADERS, 'cache-control': 'no-store' };

export interface RunningAgent {
  url: string;
  readiness: Readiness;
  cache: TokenCache;
  metrics: AgentMetrics;
  /** Stops taking requests, lets those in flight finish (up to the grace period), releases everything. */
  close(): Promise<void>;
}

/**
 * The sidecar agent: a plain node:http server in front of the token cache. No framework: four
 * routes do not need one, and every module loaded is paid in each pod's memory and start time.
 */
export async function startAgent(
  env: AgentEnvironment,
  logger: Logger = pino({ level: env.logLevel }),
): Promise<RunningAgent> {
  const metrics = new AgentMetrics();
  const credential =
    env.credential.kind === 'file'
      ? await CredentialSource.fromFile(env.credential.path)
      : CredentialSource.fromApiKey(env.credential.value);
  const client = new BrokerClient(env.brokerUrl, env.brokerTimeoutMs, env.brokerMaxSockets);
  const api = new BrokerApi(client, credential, metrics, logger);
  const cache = new TokenCache(
    (key, minValidity, purpose) => api.fetchToken(key, minValidity, purpose),
    {
      negativeHoldMs: env.negativeCacheSeconds * 1000,
      forgetAfterMs: env.forgetAfterSeconds * 1000,
      maxConnections: env.cacheMaxConnections,
    },
    metrics,
    logger,
  );
  const readiness = new Readiness(
    () => api.currentCredential(),
    (presented) => api.whoAmI(presented),
    () => cache.clear(),
    metrics,
    logger,
  );
  api.useVerdicts(readiness);

  let inFlight = 0;
  let stopping = false;
  let drained: (() => void) | null = null;
  const server = createServer((request, response) => {
    inFlight += 1;
    if (stopping) response.setHeader('connection', 'close');
    response.on('close', () => {
      inFlight -= 1;
      if (stopping && inFlight === 0) drained?.();
    });
    route(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'request failed');
      if (!response.headersSent)
        send(response, 500, JSON.stringify(errorBody(500, 'internal_error', 'internal error')));
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt === -1 ? url : url.slice(0, queryAt);
    if (request.method === 'GET' && path.startsWith('/tokens/')) {
      const required = env.requireHeader;
      if (required && request.headers[required.name] !== required.value) {
        const message = `token requests must carry the ${required.name} header this agent requires`;
        return send(response, 400, JSON.stringify(errorBody(400, 'bad_request', message)));
      }
      return readToken(path.slice('/tokens/'.length), queryAt === -1 ? '' : url.slice(queryAt + 1), response);
    }
    if (request.method === 'GET' && path === '/health/live') return send(response, 200, '{"status":"ok"}');
    if (request.method === 'GET' && path === '/health/ready') {
      const view = readiness.view();
      const body = view.ready
        ? { status: 'ready', caller: { name: view.caller!.name, kind: view.caller!.kind } }
        : errorBody(503, 'service_unavailable', view.reason);
      return send(response, view.ready ? 200 : 503, JSON.stringify(body));
    }
    if (request.method === 'GET' && path === '/metrics') {
      response.writeHead(200, { 'content-type': metrics.registry.contentType });
      response.end(await metrics.registry.metrics());
      return;
    }
    send(
      response,
      404,
      JSON.stringify(errorBody(404, 'not_found', `Route ${request.method}:${path} not found`)),
    );
  }

  async function readToken(connection: string, query: string, response: ServerResponse): Promise<void> {
    const values = query ? new URLSearchParams(query).getAll('minValidity') : [];
    const minValidity = readMinValidity(values.length > 1 ? values : values[0]);
    if (minValidity === null) {
      return send(response, 400, JSON.stringify(errorBody(400, 'bad_request', MIN_VALIDITY_RULE)));
    }
    // No such key can exist at the broker: answered here, without a call or a cache entry.
    if (!CONNECTION_KEY_PATTERN.test(connection)) {
      return send(
        response,
        404,
        JSON.stringify(errorBody(404, 'not_found', `connection "${connection}" does not exist`)),
      );
    }
    const answer = await cache.get(connection, minValidity);
    if (answer.kind === 'error') return send(response, answer.status, answer.body);
    response.writeHead(200, TOKEN_HEADERS);
    response.end(tokenAnswerJson(answer.token));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.port, env.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info(
    { url, broker: env.brokerUrl.origin, credential: credential.description },
    'token agent listening',
  );
  void readiness.start();

  return {
    url,
    readiness,
    cache,
    metrics,
    close: async () => {
      stopping = true;
      readiness.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, env.shutdownGraceMs).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
      cache.close();
      client.close();
    },
  };
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, JSON_HEADERS);
  response.end(body);
}
