import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { constantTimeEqualHex, generateSecret, hashApiKey } from '@broker/crypto';
import { BrokerError } from '../common/broker-error';
import { AuditLog } from '../audit/audit-log';
import { ConnectionEvents, CONNECTION_CHANNEL } from '../tokens/connection-events';
import { ClientEntity } from './client.entity';
import { ClientView, CreateClientDto, CreatedClientView } from './client.dto';

const API_KEY_PATTERN = /^tbk_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/;
const CACHE_TTL_MS = 60_000;

/** A caller the token API recognised. */
export interface Caller {
  clientId: string;
  name: string;
  allowsAll: boolean;
  connections: ReadonlySet<string>;
}

interface CachedClient {
  caller: Caller;
  apiKeyHash: string;
  loadedAt: number;
}

/**
 * Calling services and their API keys. A key is `tbk_<prefix>_<secret>`: the prefix finds the
 * row, the SHA-256 of the whole key is compared in constant time. Recognised clients are cached
 * per replica; a deletion anywhere evicts them everywhere through NOTIFY.
 */
@Injectable()
export class ClientsService implements OnModuleInit {
  private readonly byPrefix = new Map<string, CachedClient | null>();

  constructor(
    @InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: ConnectionEvents,
    private readonly audit: AuditLog,
  ) {}

  onModuleInit(): void {
    this.events.onChange((change) => {
      if (change.kind === 'client') this.byPrefix.delete(change.key);
    });
    this.events.onListening((listening) => {
      if (!listening) this.byPrefix.clear();
    });
  }

  async create(dto: CreateClientDto, actor: string): Promise<CreatedClientView> {
    const connections = [...new Set(dto.connections)];
    if (connections.includes('*') && connections.length > 1) {
      throw BrokerError.badRequest('connections must be ["*"] alone or a list of connection keys');
    }
    const prefix = generateSecret(9);
    const apiKey = `tbk_${prefix}_${generateSecret(32)}`;
    const entity = await this.clients.save(
      this.clients.create({
        name: dto.name,
        apiKeyPrefix: prefix,
        apiKeyHash: hashApiKey(apiKey),
        connections,
      }),
    );
    await this.audit.record({ action: 'client.create', actor, targetType: 'client', targetKey: entity.id });
    return { ...view(entity), apiKey };
  }

  async list(): Promise<ClientView[]> {
    return (await this.clients.find({ order: { createdAt: 'ASC' } })).map(view);
  }

  async remove(id: string, actor: string): Promise<void> {
    const entity = /^[0-9a-f-]{36}$/i.test(id) ? await this.clients.findOneBy({ id }) : null;
    if (!entity) throw BrokerError.notFound('client', id);
    await this.db.transaction(async (manager) => {
      await manager.delete(ClientEntity, { id });
      await manager.query('SELECT pg_notify($1, $2)', [
        CONNECTION_CHANNEL,
        JSON.stringify({ id, key: entity.apiKeyPrefix, v: 0, kind: 'client' }),
      ]);
    });
    this.byPrefix.delete(entity.apiKeyPrefix);
    await this.audit.record({ action: 'client.delete', actor, targetType: 'client', targetKey: id });
  }

  /** The caller behind an API key, or null. Cached: a known key costs one hash, no database. */
  async authenticate(apiKey: string): Promise<Caller | null> {
    const match = API_KEY_PATTERN.exec(apiKey);
    if (!match) return null;
    const prefix = match[1];
    let cached = this.byPrefix.get(prefix);
    if (cached === undefined || (cached && Date.now() - cached.loadedAt > CACHE_TTL_MS)) {
      cached = await this.load(prefix);
    }
    if (!cached) return null;
    return constantTimeEqualHex(hashApiKey(apiKey), cached.apiKeyHash) ? cached.caller : null;
  }

  private async load(prefix: string): Promise<CachedClient | null> {
    const entity = await this.clients.findOneBy({ apiKeyPrefix: prefix });
    const cached = entity
      ? {
          apiKeyHash: entity.apiKeyHash,
          loadedAt: Date.now(),
          caller: {
            clientId: entity.id,
            name: entity.name,
            allowsAll: entity.connections.includes('*'),
            connections: new Set(entity.connections),
          },
        }
      : null;
    // Unknown prefixes are not cached, so guessing cannot fill the memory.
    if (cached) this.byPrefix.set(prefix, cached);
    return cached;
  }
}

function view(entity: ClientEntity): ClientView {
  return {
    id: entity.id,
    name: entity.name,
    connections: entity.connections,
    apiKeyPrefix: `tbk_${entity.apiKeyPrefix}`,
    createdAt: entity.createdAt,
  };
}
