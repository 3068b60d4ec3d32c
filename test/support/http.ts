import { ADMIN_TOKEN } from './broker-process';

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function request<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? ADMIN_TOKEN}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** The admin API, with the test admin token. */
export function admin(baseUrl: string) {
  return {
    get: <T = any>(path: string) => request<T>(baseUrl, 'GET', path),
    post: <T = any>(path: string, body?: unknown) => request<T>(baseUrl, 'POST', path, { body }),
    patch: <T = any>(path: string, body?: unknown) => request<T>(baseUrl, 'PATCH', path, { body }),
    delete: <T = any>(path: string) => request<T>(baseUrl, 'DELETE', path),
  };
}

/** GET /tokens/:connection with a client API key. */
export function getToken(
  baseUrl: string,
  apiKey: string | null,
  connection: string,
  minValidity?: number | string,
) {
  const query = minValidity === undefined ? '' : `?minValidity=${minValidity}`;
  return request(baseUrl, 'GET', `/tokens/${connection}${query}`, { token: apiKey });
}
