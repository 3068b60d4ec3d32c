import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { AuditController } from './audit.controller';

/** The admin HTTP surface of the audit log (the AuditLog writer itself is in CommonModule). */
@Module({ imports: [TypeOrmModule.forFeature([AuditEventEntity])], controllers: [AuditController] })
export class AuditHttpModule {}
