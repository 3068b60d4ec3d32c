import { Controller, Get, Header, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { CallerGuard, CallerRequest } from '../clients/caller.guard';
import { NOSNIFF_ONLY_ROUTE } from '../security/http-headers';
import { parseMinValidity, TokensService } from './tokens.service';
import { TokenView } from './token.dto';
import { traceTokenRequest } from './token-request-span';
import { tracingEnabled } from '../tracing/spans';

type TokenRequest = CallerRequest &
  FastifyRequest<{ Params: { connection: string }; Querystring: { minValidity?: string | string[] } }>;

@ApiTags('tokens')
@ApiBearerAuth('client')
@UseGuards(CallerGuard)
@Controller('tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  /**
   * An access token of the connection with at least `minValidity` seconds left, refreshed first
   * when needed. However many callers and replicas ask at once, one upstream call is made.
   */
  @Get(':connection')
  // The service answers JSON text (see tokenAnswerJson); this type sends it as it is.
  @Header('Content-Type', 'application/json; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @Header('X-Content-Type-Options', 'nosniff')
  @RouteConfig(NOSNIFF_ONLY_ROUTE)
  @ApiQuery({
    name: 'minValidity',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: 86400, default: 60, example: 300 },
    description: 'seconds the token must still be valid for; 0 to 86400, default 60',
  })
  @ApiParam({
    name: 'connection',
    type: String,
    description: 'the connection key',
    example: 'bloomerang-acme',
  })
  @ApiOkResponse({ type: TokenView })
  @ApiErrors(400, 401, 403, 404, 'needs_reauthorization', 429, 500, 'provider_unavailable', 503)
  getToken(@Req() request: TokenRequest): string | Promise<string> {
    // The route every caller hits: its parameter and query are read here, one argument for Nest
    // to extract rather than three (@ApiParam and @ApiQuery document them), and with tracing off
    // there is not even a closure.
    const { connection } = request.params;
    const { minValidity } = request.query;
    if (!tracingEnabled()) {
      return this.tokens.getToken(request.caller!, connection, parseMinValidity(minValidity));
    }
    return traceTokenRequest(request, connection, () =>
      this.tokens.getToken(request.caller!, connection, parseMinValidity(minValidity)),
    );
  }
}
