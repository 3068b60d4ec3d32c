import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import pino, { Logger } from 'pino';
import type { InjectorEnvironment } from './environment';
import { answerReview, BadReviewError, InjectorSettings } from './mutate';

/** An AdmissionReview carries the pod (and, on updates, the old one): far below this. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** How often the certificate files are checked for a change (cert-manager renews, the kubelet swaps the Secret). */
const TLS_RELOAD_INTERVAL_MS = 2_000;
const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'x-content-type-options': 'nosniff',
};

export interface RunningInjector {
  url: string;
  close(): Promise<void>;
}

/**
 * The admission webhook: a plain node:http(s) server, no framework (one route, and a small
 * footprint in a Deployment that every injected pod's creation may wait on).
 */
export async function startInjector(
  env: InjectorEnvironment,
  logger: Logger = pino({ level: env.logLevel }),
): Promise<RunningInjector> {
  const settings: InjectorSettings = {
    agentImage: env.agentImage,
    brokerUrl: env.brokerUrl,
    tokenAudience: env.tokenAudience,
  };
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    route(request, response).catch((error: unknown) => {
      logger.error({ err: error }, 'request failed');
      if (!response.headersSent) send(response, 500, { message: 'internal error' });
      else response.destroy();
    });
  };

  let server: Server | HttpsServer;
  let stopWatching = () => {};
  if (env.tls) {
    const { certFile, keyFile } = env.tls;
    const read = () => ({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
    const https = createHttpsServer({ ...read(), minVersion: 'TLSv1.2' }, handler);
    // Both files change (a renewal rewrites the pair); a half-written pair fails to load and the
    // previous one stays in use until the next change.
    const reload = () => {
      try {
        https.setSecureContext({ ...read(), minVersion: 'TLSv1.2' });
        logger.info({ certFile }, 'TLS certificate reloaded');
      } catch (error) {
        logger.warn({ err: error, certFile }, 'TLS certificate not reloaded; the previous one stays in use');
      }
    };
    const onChange = (current: { mtimeMs: number }, previous: { mtimeMs: number }) => {
      if (current.mtimeMs !== previous.mtimeMs) reload();
    };
    watchFile(certFile, { interval: TLS_RELOAD_INTERVAL_MS, persistent: false }, onChange);
    watchFile(keyFile, { interval: TLS_RELOAD_INTERVAL_MS, persistent: false }, onChange);
    stopWatching = () => {
      unwatchFile(certFile, onChange);
      unwatchFile(keyFile, onChange);
    };
    server = https;
  } else {
    server = createHttpServer(handler);
  }
  server.requestTimeout = 15_000;
  server.keepAliveTimeout = 65_000;

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && (path === '/health/live' || path === '/health/ready')) {
      return send(response, 200, { status: 'ok' });
    }
    if (path !== '/mutate')
      return send(response, 404, { message: `Route ${request.method}:${path} not found` });
    if (request.method !== 'POST')
      return send(response, 405, { message: 'POST an AdmissionReview to /mutate' });

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        response.setHeader('connection', 'close');
        return send(response, 413, { message: `the AdmissionReview is larger than ${MAX_BODY_BYTES} bytes` });
      }
      chunks.push(chunk);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(response, 400, { message: 'the body is not JSON' });
    }
    let answer;
    try {
      answer = answerReview(body, settings);
    } catch (error) {
      if (error instanceof BadReviewError) return send(response, 400, { message: error.message });
      throw error;
    }
    const { review, mutation, pod } = answer;
    if (pod) {
      // Names only: a pod's env may hold values that must not reach a log.
      const fields = {
        uid: review.response!.uid,
        namespace: (body as { request: { namespace?: string } }).request.namespace,
        pod: pod.metadata?.name ?? pod.metadata?.generateName,
      };
      if (mutation.skipped === null) logger.info(fields, 'token agent added');
      else if (mutation.warnings.length > 0)
        logger.warn({ ...fields, warnings: mutation.warnings }, 'token agent not added');
      else logger.debug({ ...fields, reason: mutation.skipped }, 'pod left as it is');
    }
    send(response, 200, review);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.port, env.tls ? undefined : '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = env.tls ? 'localhost' : '127.0.0.1';
  const url = `${env.tls ? 'https' : 'http'}://${host}:${address.port}`;
  logger.info({ url, agentImage: env.agentImage, broker: env.brokerUrl }, 'agent injector listening');

  return {
    url,
    close: async () => {
      stopWatching();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref())]);
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, JSON_HEADERS);
  response.end(JSON.stringify(body));
}
