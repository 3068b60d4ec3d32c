import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { apiKeyMatches, generateSecret, hashApiKey } from '@broker/crypto';
import { BrokerError, isUniqueViolation } from '../common/broker-error';
import { AuditLog } from '../audit/audit-log';
import { ConnectionEvents, CONNECTION_CHANNEL } from '../event-bus/connection-events';
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

/** A caller recognised from this replica's cache, and until when that holds without asking again. */
export interface KnownCaller {
  caller: Caller;
  knownUntilMs: number;
}

interface CachedClient {
  caller: Caller;
  /** The bytes of the stored SHA-256 of the API key. */
  apiKeyDigest: Buffer | null;
  loadedAt: number;
}

/** Whether a bearer credential has the shape of a broker API key. */
export function looksLikeApiKey(credential: string): boolean {
  return API_KEY_PATTERN.test(credential);
}

/**
 * Calling services and their credentials. An API key is `tbk_<prefix>_<secret>`: the prefix finds
 * the row, the SHA-256 of the whole key is compared in constant time. Recognised clients are
 * cached per replica (by key prefix and by ServiceAccount); a deletion anywhere evicts them
 * everywhere through NOTIFY.
 */
@Injectable()
export class ClientsService implements OnModuleInit {
  private readonly cache = new Map<string, CachedClient>();
  private evictions = 0;

  constructor(
    @InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: ConnectionEvents,
    private readonly audit: AuditLog,
  ) {}

  onModuleInit(): void {
    this.events.onChange((change) => {
      if (change.kind === 'client') this.evict(change.id);
    });
    // Deletions made while the listener is down are never announced here: every entry is checked
    // again at its next use, falling back to the known entry only while Postgres cannot answer.
    this.events.onListening((listening) => {
      if (!listening) {
        for (const entry of this.cache.values()) entry.loadedAt = 0;
        this.evictions += 1;
      }
    });
  }

  /**
   * Changes whenever a cached client is dropped or marked stale before its time: a `KnownCaller`
   * obtained before the change may no longer hold.
   */
  get generation(): number {
    return this.evictions;
  }

  async create(dto: CreateClientDto, actor: string): Promise<CreatedClientView> {
    const connections = [...new Set(dto.connections)];
    if (connections.includes('*') && connections.length > 1) {
      throw BrokerError.badRequest('connections must be ["*"] alone or a list of connection keys');
    }
    const withKey = dto.apiKey ?? true;
    if (!withKey && !dto.serviceAccount) {
      throw BrokerError.badRequest('a client without an API key needs a serviceAccount');
    }
    const prefix = withKey ? generateSecret(9) : null;
    const apiKey = prefix ? `tbk_${prefix}_${generateSecret(32)}` : undefined;
    let entity: ClientEntity;
    try {
      entity = await this.clients.save(
        this.clients.create({
          name: dto.name,
          apiKeyPrefix: prefix,
          apiKeyHash: apiKey ? hashApiKey(apiKey) : null,
          serviceAccount: dto.serviceAccount ?? null,
          connections,
        }),
      );
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw BrokerError.conflict(
          `service account "${dto.serviceAccount}" is bound to another client already`,
        );
      }
      throw error;
    }
    await this.audit.record({ action: 'client.create', actor, targetType: 'client', targetKey: entity.id });
    return { ...view(entity), ...(apiKey ? { apiKey } : {}) };
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
        JSON.stringify({ id, key: entity.name, v: 0, kind: 'client' }),
      ]);
    });
    this.evict(id);
    await this.audit.record({ action: 'client.delete', actor, targetType: 'client', targetKey: id });
  }

  /**
   * The caller behind an API key whose client is cached and fresh, when the key matches; undefined
   * when that takes a database read or the key does not match (then ask `authenticateApiKey`).
   */
  knownApiKeyCaller(apiKey: string): KnownCaller | undefined {
    const match = API_KEY_PATTERN.exec(apiKey);
    if (!match) return undefined;
    const client = this.fresh(`key:${match[1]}`);
    return client?.apiKeyDigest && apiKeyMatches(apiKey, client.apiKeyDigest) ? known(client) : undefined;
  }

  /** The caller bound to a ServiceAccount when its client is cached and fresh; undefined otherwise. */
  knownServiceAccountCaller(serviceAccount: string): KnownCaller | undefined {
    const client = this.fresh(`sa:${serviceAccount}`);
    return client && known(client);
  }

  /** The caller behind an API key, or null. Cached: a known key costs one hash, no database. */
  async authenticateApiKey(apiKey: string): Promise<Caller | null> {
    const match = API_KEY_PATTERN.exec(apiKey);
    if (!match) return null;
    const client = await this.cached(`key:${match[1]}`, () =>
      this.clients.findOneBy({ apiKeyPrefix: match[1] }),
    );
    if (!client?.apiKeyDigest) return null;
    return apiKeyMatches(apiKey, client.apiKeyDigest) ? client.caller : null;
  }

  /** The caller bound to a verified ServiceAccount (`namespace/name`), or null. */
  async authenticateServiceAccount(serviceAccount: string): Promise<Caller | null> {
    const client = await this.cached(`sa:${serviceAccount}`, () =>
      this.clients.findOneBy({ serviceAccount }),
    );
    return client?.caller ?? null;
  }

  /** The cached client under that key if it was loaded less than CACHE_TTL_MS ago. */
  private fresh(cacheKey: string): CachedClient | undefined {
    const hit = this.cache.get(cacheKey);
    return hit && Date.now() - hit.loadedAt <= CACHE_TTL_MS ? hit : undefined;
  }

  /** The fresh cached client under that key, or the one `load` finds now (cached if it exists). */
  private async cached(
    cacheKey: string,
    load: () => Promise<ClientEntity | null>,
  ): Promise<CachedClient | null> {
    return this.fresh(cacheKey) ?? this.load(cacheKey, load);
  }

  private async load(
    cacheKey: string,
    load: () => Promise<ClientEntity | null>,
  ): Promise<CachedClient | null> {
    const hit = this.cache.get(cacheKey);
    let entity: ClientEntity | null;
    try {
      entity = await load();
    } catch (error) {
      if (hit) return hit; // Postgres is away: a caller known a moment ago keeps its access
      throw error;
    }
    if (!entity) {
      this.cache.delete(cacheKey);
      return null; // unknown credentials are not cached, so guessing cannot fill the memory
    }
    const entry: CachedClient = {
      apiKeyDigest: entity.apiKeyHash ? Buffer.from(entity.apiKeyHash, 'hex') : null,
      loadedAt: Date.now(),
      caller: {
        clientId: entity.id,
        name: entity.name,
        allowsAll: entity.connections.includes('*'),
        connections: new Set(entity.connections),
      },
    };
    this.cache.set(cacheKey, entry);
    return entry;
  }

  private evict(clientId: string): void {
    for (const [cacheKey, entry] of this.cache)
      if (entry.caller.clientId === clientId) this.cache.delete(cacheKey);
    this.evictions += 1;
  }
}

function known(client: CachedClient): KnownCaller {
  return { caller: client.caller, knownUntilMs: client.loadedAt + CACHE_TTL_MS };
}

function view(entity: ClientEntity): ClientView {
  return {
    id: entity.id,
    name: entity.name,
    connections: entity.connections,
    apiKeyPrefix: entity.apiKeyPrefix ? `tbk_${entity.apiKeyPrefix}` : null,
    serviceAccount: entity.serviceAccount,
    createdAt: entity.createdAt,
  };
}
