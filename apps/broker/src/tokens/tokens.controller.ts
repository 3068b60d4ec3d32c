import { Controller, Get, Header, Param, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CallerGuard, CallerRequest } from '../clients/caller.guard';
import { parseMinValidity, TokensService } from './tokens.service';
import { TokenView } from './token.dto';

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
  @Header('Cache-Control', 'no-store')
  @ApiQuery({
    name: 'minValidity',
    required: false,
    type: Number,
    description: 'seconds, 0 to 86400; default 60',
  })
  @ApiOkResponse({ type: TokenView })
  @ApiResponse({ status: 400, description: 'invalid minValidity' })
  @ApiResponse({ status: 401, description: 'no or unknown API key' })
  @ApiResponse({ status: 403, description: 'the API key may not read this connection' })
  @ApiResponse({ status: 404, description: 'unknown connection' })
  @ApiResponse({ status: 409, description: '{ error: "needs_reauthorization" }' })
  @ApiResponse({ status: 503, description: 'provider unreachable and no valid token left' })
  getToken(
    @Req() request: CallerRequest,
    @Param('connection') connection: string,
    @Query('minValidity') minValidity?: string,
  ): TokenView | Promise<TokenView> {
    return this.tokens.getToken(request.caller!, connection, parseMinValidity(minValidity));
  }
}
