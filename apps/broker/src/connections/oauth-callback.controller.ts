import { Controller, Get, Header, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthorizationFlow, CallbackParams } from './authorization-flow';

/** Where providers send the account's user back. Public: the single-use state is the credential. */
@ApiExcludeController()
@Controller('oauth')
export class OAuthCallbackController {
  constructor(private readonly flow: AuthorizationFlow) {}

  @Get('callback')
  @Header('Cache-Control', 'no-store')
  async callback(
    @Query() query: CallbackParams,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    const result = await this.flow.complete(query);
    if (!(request.headers.accept ?? '').includes('text/html')) return result;
    void reply.type('text/html; charset=utf-8');
    return `<!doctype html><html><head><meta charset="utf-8"><title>Connected</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>Connected</h1><p>${escapeHtml(result.message)}. You can close this window.</p></body></html>`;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
