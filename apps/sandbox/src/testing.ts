/**
 * A small HTTP client for specs that drive a listening sandbox (in-process specs must use real HTTP, not
 * app.inject). Free of jest globals, so it compiles with the rest of the app.
 */
import { createSandbox, type Sandbox, type SandboxOptions } from './sandbox';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T = unknown>(): T;
}

export interface TestSandbox {
  readonly sandbox: Sandbox;
  readonly baseUrl: string;
  get(path: string, headers?: Record<string, string>): Promise<HttpResponse>;
  /** URLSearchParams are sent form-encoded, anything else as JSON. */
  post(
    path: string,
    body?: URLSearchParams | object,
    headers?: Record<string, string>,
  ): Promise<HttpResponse>;
}

export async function startTestSandbox(options: SandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = createSandbox(options);
  const baseUrl = await sandbox.listen(0);
  const send = async (path: string, init: RequestInit): Promise<HttpResponse> => {
    const response = await fetch(new URL(path, baseUrl), { redirect: 'manual', ...init });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
  };
  return {
    sandbox,
    baseUrl,
    get: (path, headers = {}) => send(path, { headers }),
    post: (path, body, headers = {}) =>
      send(path, {
        method: 'POST',
        headers: {
          ...(body === undefined
            ? {}
            : {
                'content-type':
                  body instanceof URLSearchParams ? 'application/x-www-form-urlencoded' : 'application/json',
              }),
          ...headers,
        },
        body: body === undefined || body instanceof URLSearchParams ? body : JSON.stringify(body),
      }),
  };
}

/**
 * `Authorization: Basic` the way RFC 6749 2.3.1 has clients build it (each half form-encoded first),
 * or `literal`: the id and secret as they are, the way Bloomerang documents it.
 */
export function basicAuthorization(
  clientId: string,
  clientSecret: string,
  encoding: 'form-encoded' | 'literal' = 'form-encoded',
): string {
  const encode =
    encoding === 'literal'
      ? (value: string) => value
      : (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

export const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });
