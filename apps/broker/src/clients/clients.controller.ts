import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { AdminGuard } from '../security/admin.guard';
import { createValidationPipe } from '../common/validation';
import { ADMIN_ACTOR } from '../audit/audit-log';
import { ClientView, CreateClientDto, CreatedClientView } from './client.dto';
import { ClientsService } from './clients.service';

@ApiTags('clients')
@ApiBearerAuth('admin')
@ApiErrors(401, 429, 500, 503)
@UseGuards(AdminGuard)
@UsePipes(createValidationPipe())
@Controller('admin/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  /** Creates a calling service; the answer holds its API key, shown this once. */
  @Post()
  @ApiErrors(400, 409, 413, 415)
  create(@Body() dto: CreateClientDto): Promise<CreatedClientView> {
    return this.clients.create(dto, ADMIN_ACTOR);
  }

  /** Lists clients (never their keys). */
  @Get()
  list(): Promise<ClientView[]> {
    return this.clients.list();
  }

  /** Deletes a client; its key stops working on every replica at once. */
  @Delete(':id')
  @HttpCode(204)
  @ApiParam({
    name: 'id',
    description: 'the client id',
    format: 'uuid',
    example: '3f6c2a0e-8d1b-4e57-9c2a-5b7e1d0f4a86',
  })
  @ApiErrors(404)
  remove(@Param('id') id: string): Promise<void> {
    return this.clients.remove(id, ADMIN_ACTOR);
  }
}
