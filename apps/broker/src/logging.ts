import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import type { BrokerEnvironment } from './config/environment';

const QUIET_PATHS = /^\/(tokens\/|health\/|metrics)/;

/** A URL with query values dropped: the callback's `code` and `state` must never reach a log. */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  const [path, query] = url.split('?', 2);
  if (!query) return path;
  const names = query.split('&').map((pair) => decodeURIComponentSafe(pair.split('=')[0]));
  return `${path}?${names.map((name) => `${name}=[redacted]`).join('&')}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * JSON logs. Authorization headers, cookies, query values and every field that could carry a
 * secret or token are redacted; token and health requests are not logged one by one (the audit
 * log and the metrics count them) so the hot path does not pay for a log line.
 */
export function loggerParams(env: BrokerEnvironment): Params {
  return {
    // The hot path does not pay for a per-request logger; its reads are in the audit log and metrics.
    exclude: [{ path: 'tokens/{*connection}', method: RequestMethod.GET }],
    pinoHttp: {
      level: env.LOG_LEVEL,
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          '*.clientSecret',
          '*.client_secret',
          '*.accessToken',
          '*.access_token',
          '*.refreshToken',
          '*.refresh_token',
          '*.apiKey',
          '*.code',
          '*.state',
          '*.password',
          'err.config',
          'err.request',
          'err.response',
        ],
        censor: '[redacted]',
      },
    },
  };
}
