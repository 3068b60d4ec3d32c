import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CATALOGUE, type CatalogueEntry } from '@broker/providers';
import { ApiErrors } from '../common/api-errors';
import { RequiresRole } from '../admin-identities/admin-roles';
import { AdminRoutes } from '../security/admin.guard';
import { ProviderView } from './provider.dto';

@ApiTags('providers')
@AdminRoutes()
@ApiErrors(401, 403, 429, 500, 503)
@Controller('admin/providers')
export class ProvidersController {
  private readonly views = CATALOGUE.map(providerView);

  /**
   * The provider catalogue: every id `POST /admin/integrations` accepts as `provider`, with the
   * config each connection must give, its scopes, refresh token rules and documentation.
   */
  @RequiresRole('viewer')
  @Get()
  list(): ProviderView[] {
    return this.views;
  }
}

function providerView(entry: CatalogueEntry): ProviderView {
  return {
    id: entry.id,
    name: entry.name,
    grantTypes: [...entry.grantTypes],
    config: (entry.config ?? []).map(({ name, pattern, description }) => ({ name, pattern, description })),
    scopes: entry.allowedScopes,
    defaultScopes: entry.defaultScopes,
    refreshEarning: entry.refreshEarning,
    sources: entry.sources.map((source) => ({ ...source })),
    docs: [...entry.docs],
    authorizationUrl: entry.authorizationUrl,
    tokenUrl: entry.tokenUrl,
    tokenAuthMethod: entry.tokenAuthMethod,
    pkce: entry.pkce,
    scopeSeparator: entry.scopeSeparator,
    authorizationParams: entry.authorizationParams,
    codeExchangeParams: entry.codeExchangeParams,
    refreshParams: entry.refreshParams,
    metadata: entry.metadata,
    refreshToken: entry.refreshToken,
    accessTokenSeconds: entry.accessTokenSeconds,
    defaultExpiresInSeconds: entry.defaultExpiresInSeconds,
    refreshWindowSeconds: entry.refreshWindowSeconds,
  };
}
