import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { ConnectionEntity } from '../model/connection.entity';

/**
 * One authorization request in flight. Only the SHA-256 of the state is stored; consuming it is a
 * single conditional UPDATE, so a replayed callback can never reach the provider twice.
 */
@Entity({ name: 'oauth_states' })
export class OAuthStateEntity {
  /** Given by the broker on insert when a verifier is sealed with it as associated data. */
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('oauth_states_connection_idx')
  @Column({ name: 'connection_id', type: 'uuid' })
  connectionId: string;

  @ManyToOne(() => ConnectionEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'connection_id' })
  connection?: ConnectionEntity;

  @Column({ name: 'state_hash', type: 'char', length: 64, unique: true })
  stateHash: string;

  /** The exact redirect_uri sent in the authorization URL; the code exchange must repeat it. */
  @Column({ name: 'redirect_uri', type: 'text' })
  redirectUri: string;

  /** The PKCE code verifier (sealed), for providers that use PKCE; sent once, with the code. */
  @Column({ name: 'code_verifier', type: 'text', nullable: true })
  codeVerifier: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
