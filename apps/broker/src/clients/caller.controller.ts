import { Controller, Get, Header, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { bearerToken } from '../security/admin.guard';
import { CallerGuard, CallerRequest } from './caller.guard';
import { looksLikeApiKey } from './clients.service';
import { CallerView } from './caller.dto';

@ApiTags('tokens')
@ApiBearerAuth('client')
@UseGuards(CallerGuard)
@Controller('caller')
export class CallerController {
  /**
   * Who the presented credential is ("who am I"): the sidecar agent's readiness check, and a way
   * for an operator to see what a key or ServiceAccount may read. No token is touched.
   */
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiErrors(401, 429, 500, 503)
  whoAmI(@Req() request: CallerRequest): CallerView {
    const caller = request.caller!;
    return {
      name: caller.name,
      // The guard accepted the credential; its shape says which of the two kinds it was.
      kind: looksLikeApiKey(bearerToken(request.headers.authorization) ?? '') ? 'api_key' : 'service_account',
      connections: caller.allowsAll ? ['*'] : [...caller.connections].sort(),
    };
  }
}
