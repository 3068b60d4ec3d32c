import { Controller, Get, Header, Query, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrors } from '../common/api-errors';
import { AuthorizationFlow, CallbackParams } from './authorization-flow';
import { CallbackQuery, CallbackResultView } from './connection.dto';

/** Where providers send the account's user back. Public: the single-use state is the credential. */
@ApiTags('oauth')
@Controller('oauth')
export class OAuthCallbackController {
  constructor(private readonly flow: AuthorizationFlow) {}

  /**
   * The redirect URI of every authorization-code integration: consumes the single-use state, then
   * exchanges the code. A short page for browsers (`Accept: text/html`), JSON otherwise.
   */
  @Get('callback')
  @Header('Cache-Control', 'no-store')
  @ApiExtraModels(CallbackResultView)
  @ApiOkResponse({
    description: 'the connection is active',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(CallbackResultView) } },
      'text/html': {
        schema: { type: 'string', example: '<!doctype html><html>…<h1>Connected</h1>…</html>' },
      },
    },
  })
  @ApiErrors(400, 'invalid_state', 404, 500, 'provider_unavailable', 503)
  async callback(
    @Query() query: CallbackQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    // The whole query: an entry may keep a callback parameter as metadata (QuickBooks' realmId).
    const result = await this.flow.complete(query as CallbackParams);
    if (!(request.headers.accept ?? '').includes('text/html')) return result;
    void reply.type('text/html; charset=utf-8');
    if (result.warning) {
      return `<!doctype html><html><head><meta charset="utf-8"><title>Connected without a refresh token</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>Connected without a refresh token</h1><p>Connection "${escapeHtml(result.connection)}" works only until its access token expires.</p><p>${escapeHtml(result.warning)}.</p></body></html>`;
    }
    return `<!doctype html><html><head><meta charset="utf-8"><title>Connected</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>Connected</h1><p>${escapeHtml(result.message)}. You can close this window.</p></body></html>`;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
