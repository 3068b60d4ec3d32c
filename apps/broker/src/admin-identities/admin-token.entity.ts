import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
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

  /** The named token that minted this one: deleting it deletes this one too (and this one expires no later). */
  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parentId: string | null;

  @ManyToOne(() => AdminTokenEntity, { onDelete: 'CASCADE', nullable: true })
  @JoinColumn({ name: 'parent_id' })
  parent?: AdminTokenEntity;

  /**
   * The signed-in person at the root of the chain that minted it (`oidc:<sub>`), or null (bootstrap):
   * the token works only while that person still holds its role (see AdminPersonEntity).
   */
  @Column({ name: 'minted_by_person', type: 'varchar', length: 300, nullable: true })
  mintedByPerson: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/**
 * The role a signed-in person held at their last request, so the tokens they minted stop working
 * when they lose it (a named token cannot ask the identity provider about its minter).
 */
@Entity({ name: 'admin_people' })
export class AdminPersonEntity {
  /** `oidc:<sub>`. */
  @PrimaryColumn({ type: 'varchar', length: 300 })
  actor: string;

  /** Null when none of the person's groups maps to a role any more. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  role: AdminRole | null;

  @UpdateDateColumn({ name: 'seen_at', type: 'timestamptz' })
  seenAt: Date;
}
