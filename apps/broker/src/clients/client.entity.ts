import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A calling service. It authenticates with an API key (stored only as a SHA-256 hash, looked up
 * by a public prefix), with its Kubernetes ServiceAccount, or either.
 */
@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'api_key_prefix', type: 'varchar', length: 32, unique: true, nullable: true })
  apiKeyPrefix: string | null;

  @Column({ name: 'api_key_hash', type: 'char', length: 64, nullable: true })
  apiKeyHash: string | null;

  /** `namespace/name` of a Kubernetes ServiceAccount whose pods may call as this client. */
  @Column({ name: 'service_account', type: 'varchar', length: 253, unique: true, nullable: true })
  serviceAccount: string | null;

  /** Connection keys this client may read; `*` means all. */
  @Column({ type: 'text', array: true })
  connections: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
