import { Controller, Get, Query, UseGuards, UsePipes } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { InjectRepository } from '@nestjs/typeorm';
import { FindOptionsWhere, MoreThanOrEqual, Repository } from 'typeorm';
import { AdminGuard } from '../security/admin.guard';
import { createValidationPipe } from '../common/validation';
import { AuditEventEntity } from './audit-event.entity';
import { AuditEventView, ListAuditQuery } from './audit.dto';

@ApiTags('audit')
@ApiBearerAuth('admin')
@ApiErrors(401, 429, 500, 503)
@UseGuards(AdminGuard)
@UsePipes(createValidationPipe())
@Controller('admin/audit')
export class AuditController {
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /** Who read which token and who changed what, newest first. Kept `BROKER_AUDIT_RETENTION_DAYS` days. */
  @Get()
  @ApiErrors(400)
  async list(@Query() query: ListAuditQuery): Promise<AuditEventView[]> {
    const where: FindOptionsWhere<AuditEventEntity> = {};
    if (query.action) where.action = query.action;
    if (query.target) where.targetKey = query.target;
    if (query.actor) where.actor = query.actor;
    if (query.since) where.createdAt = MoreThanOrEqual(new Date(query.since));
    return this.events.find({ where, order: { id: 'DESC' }, take: query.limit ?? 100 });
  }
}
