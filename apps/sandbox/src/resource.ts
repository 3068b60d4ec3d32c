import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ProviderName } from './clients';
import type { SandboxContext } from './context';
import { bearerToken } from './protocol';
import type { AccessToken } from './state';

/**
 * A protected resource that answers only to a live (unexpired, unrevoked) access token of its own
 * provider, with RFC 6750 challenges otherwise.
 */
export function resourceRoute(
  ctx: SandboxContext,
  provider: ProviderName,
  describe: (token: AccessToken) => Record<string, unknown>,
) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    const value = bearerToken(request.headers.authorization);
    const token = value === undefined ? undefined : ctx.store.findAccessToken(provider, value);
    if (token !== undefined) return reply.send(describe(token));
    const challenge =
      value === undefined
        ? `Bearer realm="${provider}"`
        : `Bearer realm="${provider}", error="invalid_token"`;
    return reply
      .status(401)
      .header('www-authenticate', challenge)
      .send({
        error: 'invalid_token',
        error_description:
          value === undefined
            ? 'A Bearer access token is required.'
            : 'The access token is unknown, expired or revoked.',
      });
  };
}
