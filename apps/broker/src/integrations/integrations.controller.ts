import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { AdminGuard } from '../security/admin.guard';
import { createValidationPipe } from '../common/validation';
import { ADMIN_ACTOR } from '../audit/audit-log';
import { CreateIntegrationDto, IntegrationView, UpdateIntegrationDto } from './integration.dto';
import { IntegrationsService } from './integrations.service';

@ApiTags('integrations')
@ApiBearerAuth('admin')
@ApiErrors(401, 429, 500, 503)
@UseGuards(AdminGuard)
@UsePipes(createValidationPipe())
@Controller('admin/integrations')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  /** Registers an upstream OAuth client. The client secret is encrypted at rest and never returned. */
  @Post()
  @ApiErrors(400, 409, 413, 415)
  create(@Body() dto: CreateIntegrationDto): Promise<IntegrationView> {
    return this.integrations.create(dto, ADMIN_ACTOR);
  }

  /** Lists every integration. */
  @Get()
  list(): Promise<IntegrationView[]> {
    return this.integrations.list();
  }

  /** One integration, with the redirect URI to register with the provider. */
  @Get(':key')
  @ApiParam({ name: 'key', description: 'the integration key', example: 'bloomerang-prod' })
  @ApiErrors(404)
  get(@Param('key') key: string): Promise<IntegrationView> {
    return this.integrations.get(key);
  }

  /** Changes settings or rotates the client secret. */
  @Patch(':key')
  @ApiParam({ name: 'key', description: 'the integration key', example: 'bloomerang-prod' })
  @ApiErrors(400, 404, 413, 415)
  update(@Param('key') key: string, @Body() dto: UpdateIntegrationDto): Promise<IntegrationView> {
    return this.integrations.update(key, dto, ADMIN_ACTOR);
  }

  /** Deletes an integration that has no connections left (409 otherwise). */
  @Delete(':key')
  @HttpCode(204)
  @ApiParam({ name: 'key', description: 'the integration key', example: 'bloomerang-prod' })
  @ApiErrors(404, 409)
  remove(@Param('key') key: string): Promise<void> {
    return this.integrations.remove(key, ADMIN_ACTOR);
  }
}
