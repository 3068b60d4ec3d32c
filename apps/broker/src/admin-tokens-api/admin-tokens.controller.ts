import { Body, Controller, Delete, Get, HttpCode, Param, Post, UsePipes } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { createValidationPipe } from '../common/validation';
import { AdminRoutes } from '../security/admin.guard';
import { RequiresRole } from '../admin-identities/admin-roles';
import { AdminIdentity, CurrentAdmin } from '../admin-identities/admin-identity';
import {
  AdminTokenView,
  CreateAdminTokenDto,
  CreatedAdminTokenView,
} from '../admin-identities/admin-token.dto';
import { AdminTokensService } from '../admin-identities/admin-tokens.service';

@ApiTags('admin tokens')
@AdminRoutes()
@ApiErrors(401, 403, 429, 500, 503)
@UsePipes(createValidationPipe())
@Controller('admin/tokens')
export class AdminTokensController {
  constructor(private readonly tokens: AdminTokensService) {}

  /**
   * Mints a named admin token for automation, of the caller's role or a weaker one; the answer
   * holds the token, shown this once (only its hash is kept). It stops by itself after
   * `expiresInDays`.
   */
  @RequiresRole('admin')
  @Post()
  @ApiErrors(400, 409, 413, 415)
  create(
    @Body() dto: CreateAdminTokenDto,
    @CurrentAdmin() admin: AdminIdentity,
  ): Promise<CreatedAdminTokenView> {
    return this.tokens.create(dto, admin);
  }

  /** Lists named admin tokens (never the tokens themselves), expired ones included. */
  @RequiresRole('viewer')
  @Get()
  list(): Promise<AdminTokenView[]> {
    return this.tokens.list();
  }

  /** Revokes a named admin token: it stops working on every replica at once. */
  @RequiresRole('admin')
  @Delete(':id')
  @HttpCode(204)
  @ApiParam({
    name: 'id',
    description: 'the admin token id',
    format: 'uuid',
    example: '9b2d7c1e-0f3a-4c58-8e6d-2a4b5c6d7e8f',
  })
  @ApiErrors(404)
  remove(@Param('id') id: string, @CurrentAdmin() admin: AdminIdentity): Promise<void> {
    return this.tokens.remove(id, admin.actor);
  }
}
