import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, UsePipes } from '@nestjs/common';
import { ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { AdminRoutes } from '../security/admin.guard';
import { RequiresRole } from '../admin-identities/admin-roles';
import { AdminIdentity, CurrentAdmin } from '../admin-identities/admin-identity';
import { createValidationPipe } from '../common/validation';
import {
  ConnectionView,
  CreateConnectionDto,
  ImportConnectionsDto,
  ImportConnectionsView,
  ListConnectionsQuery,
} from './connection.dto';
import { ConnectionsService } from './connections.service';

@ApiTags('connections')
@AdminRoutes()
@ApiErrors(401, 403, 429, 500, 503)
@UsePipes(createValidationPipe())
@Controller('admin/connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  /**
   * Creates a connection. Client credentials: the first token is fetched at once (`active`, or
   * `error` with `lastError`). Authorization code: `pending_authorization` with an
   * `authorizationUrl` to send the account's user to, valid 10 minutes.
   *
   * Import (authorization code only): with a write-only `refreshToken` (and optionally
   * `accessToken` with `expiresAt`, `scope`, `refreshTokenExpiresAt`) the connection is `active`
   * at once. Without a usable access token it is refreshed once now, so a dead refresh token
   * answers 201 with `needs_reauthorization` and `lastError`.
   */
  @RequiresRole('operator')
  @Post()
  @ApiResponse({ status: 201, type: ConnectionView, description: 'created (or imported)' })
  @ApiErrors(400, 409, 413, 415)
  create(@Body() dto: CreateConnectionDto, @CurrentAdmin() admin: AdminIdentity): Promise<ConnectionView> {
    return this.connections.create(dto, admin.actor);
  }

  /**
   * Imports up to 1,000 connections authorized elsewhere, each as `POST /admin/connections` with a
   * `refreshToken`. Each item is checked and stored on its own (never half-written); the results
   * say per item `active`, `needs_reauthorization` or `error` (its first refresh), `exists` (the
   * key was taken: left as it is, not refreshed) or `invalid` (refused, nothing written). Calling
   * again with the same items creates and refreshes nothing. Bodies up to 8 MiB.
   */
  @RequiresRole('operator')
  @Post('import')
  @HttpCode(200)
  @ApiResponse({ status: 200, type: ImportConnectionsView, description: 'one result per item, in order' })
  @ApiErrors(400, 413, 415)
  importMany(
    @Body() dto: ImportConnectionsDto,
    @CurrentAdmin() admin: AdminIdentity,
  ): Promise<ImportConnectionsView> {
    return this.connections.importMany(dto.connections, admin.actor);
  }

  /** Lists connections, optionally by integration and status. Never shows a token. */
  @RequiresRole('viewer')
  @Get()
  @ApiErrors(400)
  list(@Query() query: ListConnectionsQuery): Promise<ConnectionView[]> {
    return this.connections.list(query);
  }

  /** One connection's state. Never shows a token. */
  @RequiresRole('viewer')
  @Get(':key')
  @ApiParam({ name: 'key', description: 'the connection key', example: 'bloomerang-acme' })
  @ApiErrors(404)
  get(@Param('key') key: string): Promise<ConnectionView> {
    return this.connections.get(key);
  }

  /** A new authorization URL for the account's user (re-authorization). */
  @RequiresRole('operator')
  @Post(':key/authorize')
  @HttpCode(200)
  @ApiParam({ name: 'key', description: 'the connection key', example: 'bloomerang-acme' })
  @ApiErrors(404, 409)
  authorize(@Param('key') key: string, @CurrentAdmin() admin: AdminIdentity): Promise<ConnectionView> {
    return this.connections.authorize(key, admin.actor);
  }

  /** Refreshes the token now, through the same single-flight as the token API. */
  @RequiresRole('operator')
  @Post(':key/refresh')
  @HttpCode(200)
  @ApiParam({ name: 'key', description: 'the connection key', example: 'bloomerang-acme' })
  @ApiErrors(400, 404, 'needs_reauthorization', 'provider_unavailable')
  refresh(@Param('key') key: string, @CurrentAdmin() admin: AdminIdentity): Promise<ConnectionView> {
    return this.connections.refresh(key, admin.actor);
  }

  /** Deletes the connection and its tokens; every replica stops serving them at once. */
  @RequiresRole('operator')
  @Delete(':key')
  @HttpCode(204)
  @ApiParam({ name: 'key', description: 'the connection key', example: 'bloomerang-acme' })
  @ApiErrors(404)
  remove(@Param('key') key: string, @CurrentAdmin() admin: AdminIdentity): Promise<void> {
    return this.connections.remove(key, admin.actor);
  }
}
