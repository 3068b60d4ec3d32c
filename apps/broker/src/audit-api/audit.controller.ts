import { Controller, Get, Query, UsePipes } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { InjectRepository } from '@nestjs/typeorm';
import { FindOptionsWhere, MoreThanOrEqual, Repository } from 'typeorm';
import { AdminRoutes } from '../security/admin.guard';
import { RequiresRole } from '../admin-identities/admin-roles';
import { createValidationPipe } from '../common/validation';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { AuditEventView, ListAuditQuery } from './audit.dto';

@ApiTags('audit')
@AdminRoutes()
@ApiErrors(401, 403, 429, 500, 503)
@UsePipes(createValidationPipe())
@Controller('admin/audit')
export class AuditController {
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /** Who read which token and who changed what, newest first. Kept `BROKER_AUDIT_RETENTION_DAYS` days. */
  @RequiresRole('viewer')
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
