import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../security/admin.guard';
import { createValidationPipe } from '../common/validation';
import { ADMIN_ACTOR } from '../audit/audit-log';
import { ClientView, CreateClientDto, CreatedClientView } from './client.dto';
import { ClientsService } from './clients.service';

@ApiTags('clients')
@ApiBearerAuth('admin')
@UseGuards(AdminGuard)
@UsePipes(createValidationPipe())
@Controller('admin/clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  /** Creates a calling service; the answer holds its API key, shown this once. */
  @Post()
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
  remove(@Param('id') id: string): Promise<void> {
    return this.clients.remove(id, ADMIN_ACTOR);
  }
}
