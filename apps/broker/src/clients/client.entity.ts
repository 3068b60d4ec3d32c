import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A calling service. Its API key is stored only as a SHA-256 hash, looked up by a public prefix. */
@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ name: 'api_key_prefix', type: 'varchar', length: 32, unique: true })
  apiKeyPrefix: string;

  @Column({ name: 'api_key_hash', type: 'char', length: 64 })
  apiKeyHash: string;

  /** Connection keys this client may read; `*` means all. */
  @Column({ type: 'text', array: true })
  connections: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
