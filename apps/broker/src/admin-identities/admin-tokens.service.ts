import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { apiKeyMatches, generateSecret, hashApiKey } from '@broker/crypto';
import { BrokerError, isUniqueViolation } from '../common/broker-error';
import { AuditLog } from '../audit/audit-log';
import { ConnectionEvents, CONNECTION_CHANNEL } from '../event-bus/connection-events';
import { AdminTokenEntity } from './admin-token.entity';
import { AdminTokenView, CreateAdminTokenDto, CreatedAdminTokenView } from './admin-token.dto';
import { AdminIdentity } from './admin-identity';
import { AdminRole, roleAllows } from './admin-roles';

const ADMIN_TOKEN_PATTERN = /^tba_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/;
const CACHE_TTL_MS = 60_000;
const DAY_MS = 86_400_000;

/** Whether a bearer credential has the shape of a named admin token. */
export function looksLikeAdminToken(credential: string): boolean {
  return ADMIN_TOKEN_PATTERN.test(credential);
}

interface CachedToken {
  id: string;
  name: string;
  role: AdminRole;
  digest: Buffer;
  expiresAtMs: number;
  loadedAt: number;
}

/**
 * Named admin tokens. A token is `tba_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of
 * the whole token is compared in constant time. Recognised tokens are cached per replica for a
 * minute; a deletion anywhere evicts them everywhere through NOTIFY (and while the listener is
 * down every entry is read again at its next use), as client API keys are.
 */
@Injectable()
export class AdminTokensService implements OnModuleInit {
  private readonly cache = new Map<string, CachedToken>();
  /** Bumped by every eviction: a row read before one is used once but not cached. */
  private generation = 0;

  constructor(
    @InjectRepository(AdminTokenEntity) private readonly tokens: Repository<AdminTokenEntity>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: ConnectionEvents,
    private readonly audit: AuditLog,
  ) {}

  onModuleInit(): void {
    this.events.onChange((change) => {
      if (change.kind === 'admin_token') this.evict(change.id);
    });
    this.events.onListening((listening) => {
      if (!listening) {
        for (const entry of this.cache.values()) entry.loadedAt = 0;
        this.generation += 1;
      }
    });
  }

  async create(dto: CreateAdminTokenDto, minter: AdminIdentity): Promise<CreatedAdminTokenView> {
    if (!minter.role || !roleAllows(minter.role, dto.role)) {
      throw new BrokerError(
        'forbidden',
        `a ${minter.role ?? 'role-less'} admin may not mint a token of role "${dto.role}"`,
      );
    }
    const prefix = generateSecret(9);
    const token = `tba_${prefix}_${generateSecret(32)}`;
    let entity: AdminTokenEntity;
    try {
      entity = await this.tokens.save(
        this.tokens.create({
          name: dto.name,
          role: dto.role,
          tokenPrefix: prefix,
          tokenHash: hashApiKey(token),
          createdBy: minter.actor,
          expiresAt: new Date(Date.now() + dto.expiresInDays * DAY_MS),
        }),
      );
    } catch (error) {
      if (isUniqueViolation(error))
        throw BrokerError.conflict(`an admin token named "${dto.name}" exists already`);
      throw error;
    }
    await this.audit.record({
      action: 'admin_token.create',
      actor: minter.actor,
      targetType: 'admin_token',
      targetKey: entity.id,
      details: { name: entity.name, role: entity.role, expiresInDays: dto.expiresInDays },
    });
    return { ...view(entity), token };
  }

  async list(): Promise<AdminTokenView[]> {
    return (await this.tokens.find({ order: { createdAt: 'ASC' } })).map(view);
  }

  async remove(id: string, actor: string): Promise<void> {
    const entity = /^[0-9a-f-]{36}$/i.test(id) ? await this.tokens.findOneBy({ id }) : null;
    if (!entity) throw BrokerError.notFound('admin token', id);
    await this.db.transaction(async (manager) => {
      await manager.delete(AdminTokenEntity, { id });
      await manager.query('SELECT pg_notify($1, $2)', [
        CONNECTION_CHANNEL,
        JSON.stringify({ id, key: entity.name, v: 0, kind: 'admin_token' }),
      ]);
    });
    this.evict(id);
    await this.audit.record({
      action: 'admin_token.delete',
      actor,
      targetType: 'admin_token',
      targetKey: id,
      details: { name: entity.name },
    });
  }

  /** The identity behind a named token, or null when it is unknown, wrong or expired. */
  async authenticate(token: string): Promise<AdminIdentity | null> {
    const match = ADMIN_TOKEN_PATTERN.exec(token);
    if (!match) return null;
    const entry = await this.lookup(match[1]);
    if (!entry || !apiKeyMatches(token, entry.digest)) return null;
    if (entry.expiresAtMs <= Date.now()) return null;
    return { kind: 'token', actor: `token:${entry.name}`, role: entry.role };
  }

  private async lookup(prefix: string): Promise<CachedToken | null> {
    const hit = this.cache.get(prefix);
    if (hit && Date.now() - hit.loadedAt <= CACHE_TTL_MS) return hit;
    const generation = this.generation;
    let entity: AdminTokenEntity | null;
    try {
      entity = await this.tokens.findOneBy({ tokenPrefix: prefix });
    } catch (error) {
      if (hit) return hit; // Postgres is away: a token known a moment ago keeps working until it expires
      throw error;
    }
    if (!entity) {
      this.cache.delete(prefix);
      return null; // unknown prefixes are not cached, so guessing cannot fill the memory
    }
    const entry: CachedToken = {
      id: entity.id,
      name: entity.name,
      role: entity.role,
      digest: Buffer.from(entity.tokenHash, 'hex'),
      expiresAtMs: entity.expiresAt.getTime(),
      loadedAt: Date.now(),
    };
    if (generation === this.generation) this.cache.set(prefix, entry);
    return entry;
  }

  private evict(id: string): void {
    for (const [prefix, entry] of this.cache) if (entry.id === id) this.cache.delete(prefix);
    this.generation += 1;
  }
}

function view(entity: AdminTokenEntity): AdminTokenView {
  return {
    id: entity.id,
    name: entity.name,
    role: entity.role,
    tokenPrefix: `tba_${entity.tokenPrefix}`,
    createdBy: entity.createdBy,
    expiresAt: entity.expiresAt,
    createdAt: entity.createdAt,
  };
}
