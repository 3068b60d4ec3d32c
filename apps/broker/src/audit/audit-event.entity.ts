import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Facts about an event: field names, counts, outcomes; never a secret or token value. */
export type AuditDetails = { [name: string]: AuditDetail };
type AuditDetail = string | number | boolean | null | string[] | AuditDetails | undefined;

/** Who did what to which object, and how it ended. Never holds a secret or token value. */
@Entity({ name: 'audit_events' })
@Index('audit_events_created_idx', ['createdAt'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ type: 'varchar', length: 300 })
  actor: string;

  /** The signed-in person's email beside an `oidc:<subject>` actor, when the provider gives one. */
  @Column({ name: 'actor_email', type: 'varchar', length: 254, nullable: true })
  actorEmail: string | null;

  @Column({ name: 'target_type', type: 'varchar', length: 32 })
  targetType: string;

  @Column({ name: 'target_key', type: 'varchar', length: 128, nullable: true })
  targetKey: string | null;

  @Column({ type: 'varchar', length: 32 })
  outcome: string;

  @Column({ type: 'jsonb', nullable: true })
  details: AuditDetails | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
