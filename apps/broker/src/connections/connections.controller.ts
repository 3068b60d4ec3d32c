import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseGuards,
  UsePipes,
} from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { AdminGuard } from '../security/admin.guard';
import { createValidationPipe } from '../common/validation';
import { ADMIN_ACTOR } from '../audit/audit-log';
import { ConnectionView, CreateConnectionDto, ListConnectionsQuery } from './connection.dto';
import { ConnectionsService } from './connections.service';

@ApiTags('connections')
@ApiBearerAuth('admin')
@ApiErrors(401, 429, 500, 503)
@UseGuards(AdminGuard)
@UsePipes(createValidationPipe())
@Controller('admin/connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  /**
   * Creates a connection. Client credentials: the first token is fetched at once (`active`, or
   * `error` with `lastError`). Authorization code: `pending_authorization` with an
   * `authorizationUrl` to send the account's user to, valid 10 minutes.
   */
  @Post()
  @ApiErrors(400, 409, 413, 415)
  create(@Body() dto: CreateConnectionDto): Promise<ConnectionView> {
    return this.connections.create(dto, ADMIN_ACTOR);
  }

  /** Lists connections, optionally by integration and status. Never shows a token. */
  @Get()
  @ApiErrors(400)
  list(@Query() query: ListConnectionsQuery): Promise<ConnectionView[]> {
    return this.connections.list(query);
  }

  /** One connection's state. Never shows a token. */
  @Get(':key')
  @ApiParam({ name: 'key', description: 'the connection key', example: 'bloomerang-acme' })
  @ApiErrors(404)
  get(@Param('key') key: string): Promise<ConnectionView> {
    return this.connections.get(key);
  }

  /** A new authorization URL for the account's user (re-authorization). */
  @Post(':key/authorize')
  @HttpCode(200)
  @ApiParam({ name: 'key', description: 'the connection key', example: 'bloomerang-acme' })
  @ApiErrors(404, 409)
  authorize(@Param('key') key: string): Promise<ConnectionView> {
    return this.connections.authorize(key, ADMIN_ACTOR);
  }

  /** Refreshes the token now, through the same single-flight as the token API. */
  @Post(':key/refresh')
  @HttpCode(200)
  @ApiParam({ name: 'key', description: 'the connection key', example: 'bloomerang-acme' })
  @ApiErrors(400, 404, 'needs_reauthorization', 'provider_unavailable')
  refresh(@Param('key') key: string): Promise<ConnectionView> {
    return this.connections.refresh(key, ADMIN_ACTOR);
  }

  /** Deletes the connection and its tokens; every replica stops serving them at once. */
  @Delete(':key')
  @HttpCode(204)
  @ApiParam({ name: 'key', description: 'the connection key', example: 'bloomerang-acme' })
  @ApiErrors(404)
  remove(@Param('key') key: string): Promise<void> {
    return this.connections.remove(key, ADMIN_ACTOR);
  }
}
