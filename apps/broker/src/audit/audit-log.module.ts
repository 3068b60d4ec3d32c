import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEventEntity } from './audit-event.entity';
import { AuditLog } from './audit-log';

/** The audit writer, which every room that changes something uses; registered once by the app. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEventEntity])],
  providers: [AuditLog],
  exports: [AuditLog],
})
export class AuditLogModule {}
