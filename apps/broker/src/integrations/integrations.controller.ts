import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UsePipes } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { AdminRoutes } from '../security/admin.guard';
import { RequiresRole } from '../admin-identities/admin-roles';
import { AdminIdentity, CurrentAdmin } from '../admin-identities/admin-identity';
import { createValidationPipe } from '../common/validation';
import { CreateIntegrationDto, IntegrationView, UpdateIntegrationDto } from './integration.dto';
import { IntegrationsService } from './integrations.service';

@ApiTags('integrations')
@AdminRoutes()
@ApiErrors(401, 403, 429, 500, 503)
@UsePipes(createValidationPipe())
@Controller('admin/integrations')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  /** Registers an upstream OAuth client. The client secret is encrypted at rest and never returned. */
  @RequiresRole('admin')
  @Post()
  @ApiErrors(400, 409, 413, 415)
  create(@Body() dto: CreateIntegrationDto, @CurrentAdmin() admin: AdminIdentity): Promise<IntegrationView> {
    return this.integrations.create(dto, admin.actor);
  }

  /** Lists every integration (the free-form parameter maps to `admin` only). */
  @RequiresRole('viewer')
  @Get()
  list(@CurrentAdmin() admin: AdminIdentity): Promise<IntegrationView[]> {
    return this.integrations.list(admin.role);
  }

  /** One integration, with the redirect URI to register with the provider. */
  @RequiresRole('viewer')
  @Get(':key')
  @ApiParam({ name: 'key', description: 'the integration key', example: 'bloomerang-prod' })
  @ApiErrors(404)
  get(@Param('key') key: string, @CurrentAdmin() admin: AdminIdentity): Promise<IntegrationView> {
    return this.integrations.get(key, admin.role);
  }

  /**
   * Changes settings or rotates the client secret. Moving the token host drops the refresh tokens
   * of the connections it moves (they need re-authorization); 409 while one of them is refreshing.
   */
  @RequiresRole('admin')
  @Patch(':key')
  @ApiParam({ name: 'key', description: 'the integration key', example: 'bloomerang-prod' })
  @ApiErrors(400, 404, 409, 413, 415)
  update(
    @Param('key') key: string,
    @Body() dto: UpdateIntegrationDto,
    @CurrentAdmin() admin: AdminIdentity,
  ): Promise<IntegrationView> {
    return this.integrations.update(key, dto, admin.actor);
  }

  /** Deletes an integration that has no connections left (409 otherwise). */
  @RequiresRole('admin')
  @Delete(':key')
  @HttpCode(204)
  @ApiParam({ name: 'key', description: 'the integration key', example: 'bloomerang-prod' })
  @ApiErrors(404, 409)
  remove(@Param('key') key: string, @CurrentAdmin() admin: AdminIdentity): Promise<void> {
    return this.integrations.remove(key, admin.actor);
  }
}
