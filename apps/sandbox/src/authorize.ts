/**
 * The authorization endpoint shared by Bloomerang and the generic provider: request validation, the
 * approve/deny page and the redirect back to the client.
 *
 * Sandbox-only parameters: `sandbox_decision=approve|deny` decides without showing the page (so tests can
 * deny), and `sandbox_account` names the account being connected (default `sandbox-account`).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { resolveRedirectUri } from './clients';
import type { SandboxContext } from './context';
import { OAuthError, readParams, type Params } from './protocol';
import type { PkceChallenge } from './state';

export const DEFAULT_ACCOUNT = 'sandbox-account';

const DECISIONS = ['approve', 'deny'] as const;
type Decision = (typeof DECISIONS)[number];

export interface AuthorizationEndpoint {
  readonly provider: 'bloomerang' | 'generic';
  readonly displayName: string;
  /** Bloomerang requires `state`; RFC 6749 only recommends it. */
  readonly stateRequired: boolean;
  /** Whether code_challenge (RFC 7636) is honoured; Bloomerang documents no PKCE. */
  readonly supportsPkce: boolean;
  /** The scope granted for the request's `scope` parameter, or undefined when it is invalid. */
  grantedScope(requested: string | undefined): string | undefined;
}

/** Registers GET `path` and the POST `path/decision` that its approve/deny page submits to. */
export function registerAuthorizationEndpoint(
  app: FastifyInstance,
  ctx: SandboxContext,
  path: string,
  endpoint: AuthorizationEndpoint,
): void {
  const decisionPath = `${path}/decision`;
  app.get(path, (request, reply) => {
    const fallback = ctx.settings.autoApprove ? 'approve' : undefined;
    return authorize(ctx, endpoint, request.query, reply, { fallback, formAction: decisionPath });
  });
  app.post(decisionPath, (request, reply) =>
    authorize(ctx, endpoint, request.body, reply, { fallback: undefined, formAction: undefined }),
  );
}

interface AuthorizeMode {
  /** The decision when the request carries none; undefined shows the page. */
  readonly fallback: Decision | undefined;
  /** Where the page posts the decision; undefined on the decision endpoint, which has to be told. */
  readonly formAction: string | undefined;
}

function authorize(
  ctx: SandboxContext,
  endpoint: AuthorizationEndpoint,
  source: unknown,
  reply: FastifyReply,
  mode: AuthorizeMode,
): FastifyReply {
  let params: Params;
  try {
    params = readParams(source);
  } catch (error) {
    return errorPage(
      reply,
      error instanceof OAuthError ? error.description : 'The request could not be read.',
    );
  }
  // Problems with the client or the redirect URI are shown to the user: redirecting would hand the
  // outcome to a URI nobody vouched for.
  const client = ctx.clients.find(endpoint.provider, params.client_id ?? '');
  if (client === undefined) return errorPage(reply, 'Unknown client_id.');
  const redirect = resolveRedirectUri(client, params.redirect_uri);
  if (!redirect.ok) return errorPage(reply, redirect.reason);
  const decision = params.sandbox_decision ?? mode.fallback;
  if (decision !== undefined && !DECISIONS.includes(decision as Decision)) {
    return errorPage(reply, 'sandbox_decision must be "approve" or "deny".');
  }

  const back = (outcome: Record<string, string>) =>
    reply.redirect(withQuery(redirect.redirectUri, { ...outcome, ...pick(params, 'state') }));
  const fail = (error: string, description: string) => back({ error, error_description: description });

  if (params.response_type !== 'code') {
    return params.response_type === undefined
      ? fail('invalid_request', 'response_type is required.')
      : fail('unsupported_response_type', 'response_type must be "code".');
  }
  if (endpoint.stateRequired && params.state === undefined) {
    return fail('invalid_request', 'state is required.');
  }
  const scope = endpoint.grantedScope(params.scope);
  if (scope === undefined) return fail('invalid_scope', 'The provided scope is invalid.');
  const pkce = endpoint.supportsPkce ? readPkce(params) : undefined;
  if (typeof pkce === 'string') return fail('invalid_request', pkce);

  if (decision === undefined) {
    return mode.formAction === undefined
      ? errorPage(reply, 'Choose Approve or Deny.')
      : consentPage(reply, endpoint, client.clientId, scope, params, mode.formAction);
  }
  if (decision === 'deny') return fail('access_denied', 'The user denied the request.');
  const code = ctx.store.saveCode({
    provider: endpoint.provider,
    clientId: client.clientId,
    account: params.sandbox_account ?? DEFAULT_ACCOUNT,
    scope,
    redirectUri: redirect.redirectUri,
    redirectUriGiven: redirect.given,
    pkce,
    expiresAt: Date.now() + ctx.settings.codeTtlSeconds * 1000,
  });
  return back({ code });
}

const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 7636 4.3; returns an error description for a malformed challenge. */
export function readPkce(params: Params): PkceChallenge | string | undefined {
  const { code_challenge: challenge, code_challenge_method: method = 'plain' } = params;
  if (challenge === undefined) {
    return params.code_challenge_method === undefined
      ? undefined
      : 'code_challenge_method needs a code_challenge.';
  }
  if (method !== 'S256' && method !== 'plain') return 'code_challenge_method must be S256 or plain.';
  if (!PKCE_CHALLENGE.test(challenge)) return 'code_challenge must be 43 to 128 unreserved characters.';
  return { challenge, method };
}

function pick(params: Params, name: string): Record<string, string> {
  const value = params[name];
  return value === undefined ? {} : { [name]: value };
}

export function withQuery(uri: string, additions: Record<string, string>): string {
  const url = new URL(uri);
  for (const [name, value] of Object.entries(additions)) url.searchParams.append(name, value);
  return url.href;
}

/** Everything the request carried goes back as hidden fields, and the decision endpoint validates it anew. */
export function consentPage(
  reply: FastifyReply,
  endpoint: Pick<AuthorizationEndpoint, 'displayName'>,
  clientId: string,
  scope: string,
  params: Params,
  formAction: string,
): FastifyReply {
  const hidden = Object.entries(params)
    .filter(([name]) => name !== 'sandbox_account')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n      ');
  return htmlPage(
    reply,
    200,
    `${endpoint.displayName} sandbox: authorize`,
    `<p><strong>${escapeHtml(clientId)}</strong> asks for access to your ${escapeHtml(endpoint.displayName)} account` +
      ` with scope <strong>${escapeHtml(scope || '(none)')}</strong>.</p>
    <form method="post" action="${escapeHtml(formAction)}">
      ${hidden}
      <label>Account <input name="sandbox_account" value="${escapeHtml(params.sandbox_account ?? DEFAULT_ACCOUNT)}"></label>
      <button type="submit" name="sandbox_decision" value="approve">Approve</button>
      <button type="submit" name="sandbox_decision" value="deny">Deny</button>
    </form>`,
  );
}

export function errorPage(reply: FastifyReply, message: string): FastifyReply {
  return htmlPage(reply, 400, 'Authorization error', `<p>${escapeHtml(message)}</p>`);
}

function htmlPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(`<!doctype html>
<html>
  <head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
  <body>
    <h1>${escapeHtml(title)}</h1>
    ${body}
  </body>
</html>
`);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]);
}
