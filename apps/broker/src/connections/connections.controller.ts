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
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../security/admin.guard';
import { createValidationPipe } from '../common/validation';
import { ADMIN_ACTOR } from '../audit/audit-log';
import { ConnectionView, CreateConnectionDto, ListConnectionsQuery } from './connection.dto';
import { ConnectionsService } from './connections.service';

@ApiTags('connections')
@ApiBearerAuth('admin')
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
  create(@Body() dto: CreateConnectionDto): Promise<ConnectionView> {
    return this.connections.create(dto, ADMIN_ACTOR);
  }

  /** Lists connections, optionally by integration and status. Never shows a token. */
  @Get()
  list(@Query() query: ListConnectionsQuery): Promise<ConnectionView[]> {
    return this.connections.list(query);
  }

  /** One connection's state. Never shows a token. */
  @Get(':key')
  get(@Param('key') key: string): Promise<ConnectionView> {
    return this.connections.get(key);
  }

  /** A new authorization URL for the account's user (re-authorization). */
  @Post(':key/authorize')
  @HttpCode(200)
  authorize(@Param('key') key: string): Promise<ConnectionView> {
    return this.connections.authorize(key, ADMIN_ACTOR);
  }

  /** Refreshes the token now, through the same single-flight as the token API. */
  @Post(':key/refresh')
  @HttpCode(200)
  refresh(@Param('key') key: string): Promise<ConnectionView> {
    return this.connections.refresh(key, ADMIN_ACTOR);
  }

  /** Deletes the connection and its tokens; every replica stops serving them at once. */
  @Delete(':key')
  @HttpCode(204)
  remove(@Param('key') key: string): Promise<void> {
    return this.connections.remove(key, ADMIN_ACTOR);
  }
}
