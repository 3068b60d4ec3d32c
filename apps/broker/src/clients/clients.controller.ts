import { Body, Controller, Delete, Get, HttpCode, Param, Post, UsePipes } from '@nestjs/common';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { AdminRoutes } from '../security/admin.guard';
import { RequiresRole } from '../admin-identities/admin-roles';
import { AdminIdentity, CurrentAdmin } from '../admin-identities/admin-identity';
import { createValidationPipe } from '../common/validation';
import { ClientView, CreateClientDto, CreatedClientView } from './client.dto';
import { ClientsService } from './clients.service';

@ApiTags('clients')
@AdminRoutes()
@ApiErrors(401, 403, 429, 500, 503)
@UsePipes(createValidationPipe())
@Controller('admin/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  /** Creates a calling service; the answer holds its API key, shown this once. */
  @RequiresRole('admin')
  @Post()
  @ApiErrors(400, 409, 413, 415)
  create(@Body() dto: CreateClientDto, @CurrentAdmin() admin: AdminIdentity): Promise<CreatedClientView> {
    return this.clients.create(dto, admin.actor);
  }

  /** Lists clients (never their keys). */
  @RequiresRole('viewer')
  @Get()
  list(): Promise<ClientView[]> {
    return this.clients.list();
  }

  /** Deletes a client; its key stops working on every replica at once. */
  @RequiresRole('admin')
  @Delete(':id')
  @HttpCode(204)
  @ApiParam({
    name: 'id',
    description: 'the client id',
    format: 'uuid',
    example: '3f6c2a0e-8d1b-4e57-9c2a-5b7e1d0f4a86',
  })
  @ApiErrors(404)
  remove(@Param('id') id: string, @CurrentAdmin() admin: AdminIdentity): Promise<void> {
    return this.clients.remove(id, admin.actor);
  }
}
