import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { AdminRole } from './admin-roles';

/**
 * A named admin token for automation. Stored like a client API key: a public prefix finds the row,
 * only the SHA-256 of the whole token is kept. Deleting the row revokes it; past `expires_at` it
 * stops by itself.
 */
@Entity({ name: 'admin_tokens' })
export class AdminTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 100, unique: true })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  role: AdminRole;

  @Column({ name: 'token_prefix', type: 'varchar', length: 32, unique: true })
  tokenPrefix: string;

  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  /** The actor that minted it (`bootstrap`, `oidc:<sub>`, `token:<name>`). */
  @Column({ name: 'created_by', type: 'varchar', length: 300 })
  createdBy: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
