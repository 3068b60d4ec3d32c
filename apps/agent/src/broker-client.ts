import * as http from 'node:http';
import * as https from 'node:https';

/** Why the broker could not be asked: the agent then serves from its cache or answers 503. */
export type UnreachableKind = 'refused' | 'timeout' | 'network';

export class BrokerUnreachableError extends Error {
  constructor(
    readonly kind: UnreachableKind,
    message: string,
  ) {
    super(message);
    this.name = 'BrokerUnreachableError';
  }
}

export interface BrokerResponse {
  status: number;
  contentType: string | undefined;
  text: string;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * GET requests to the central broker over a keep-alive pool, each bounded by a timeout. Built on
 * node:http rather than fetch: undici, which fetch loads, costs the agent about 10 MB of its RSS
 * budget, and these calls need nothing beyond a pooled GET.
 */
export class BrokerClient {
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly base: string;

  constructor(
    brokerUrl: URL,
    private readonly timeoutMs: number,
    maxSockets: number,
  ) {
    const secure = brokerUrl.protocol === 'https:';
    this.transport = secure ? https : http;
    // Idle sockets are closed before the broker's keep-alive timeout would (Fastify's is 72 s).
    const options = {
      keepAlive: true,
      maxSockets,
      maxFreeSockets: maxSockets,
      timeout: 30_000,
      scheduling: 'lifo' as const,
    };
    this.agent = secure ? new https.Agent(options) : new http.Agent(options);
    this.base = brokerUrl.href.replace(/\/+$/, '');
  }

  async get(path: string, bearer: string): Promise<BrokerResponse> {
    try {
      return await this.once(path, bearer);
    } catch (error) {
      // A pooled socket the broker closed at the same moment we reused it: the request never
      // reached the broker, so sending it once more on a fresh socket is safe (Node's documented pattern).
      if ((error as { reusedSocket?: boolean }).reusedSocket) return this.once(path, bearer);
      throw error;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private once(path: string, bearer: string): Promise<BrokerResponse> {
    return new Promise((resolve, reject) => {
      const request = this.transport.request(
        `${this.base}${path}`,
        {
          method: 'GET',
          agent: this.agent,
          headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) {
              request.destroy(new BrokerUnreachableError('network', 'the broker answered an oversized body'));
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              contentType: response.headers['content-type'],
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          response.on('error', (error) => reject(classify(error)));
        },
      );
      const timer = setTimeout(
        () =>
          request.destroy(
            new BrokerUnreachableError('timeout', `the broker did not answer within ${this.timeoutMs} ms`),
          ),
        this.timeoutMs,
      );
      request.on('error', (error) => {
        const classified = classify(error);
        if (request.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') {
          (classified as { reusedSocket?: boolean }).reusedSocket = true;
        }
        reject(classified);
      });
      request.on('close', () => clearTimeout(timer));
      request.end();
    });
  }
}

function classify(error: Error): BrokerUnreachableError {
  if (error instanceof BrokerUnreachableError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED')
    return new BrokerUnreachableError(
      'refused',
      'connection refused (nothing listens at the broker address)',
    );
  return new BrokerUnreachableError('network', `the broker connection failed (${code ?? error.message})`);
}
