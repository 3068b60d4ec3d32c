import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { apiKeyMatches, generateSecret, hashApiKey } from '@broker/crypto';
import { BrokerError, isUniqueViolation } from '../common/broker-error';
import { AuditLog } from '../audit/audit-log';
import { ConnectionEvents, CONNECTION_CHANNEL } from '../event-bus/connection-events';
import { AdminPersonEntity, AdminTokenEntity } from './admin-token.entity';
import { AdminTokenView, CreateAdminTokenDto, CreatedAdminTokenView } from './admin-token.dto';
import { AdminIdentity } from './admin-identity';
import { AdminRole, roleAllows, weakerRole } from './admin-roles';

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
  /** The token's role, weakened to its minting person's current one; null when that person has none. */
  role: AdminRole | null;
  digest: Buffer;
  expiresAtMs: number;
  loadedAt: number;
}

/** A token row with the current role of the person who minted its chain, if any. */
interface TokenRow {
  id: string;
  name: string;
  role: AdminRole;
  token_hash: string;
  expires_at: Date;
  minted_by_person: string | null;
  person_role: AdminRole | null;
}

/** Evicts every cached token (a person's role changed). */
const EVERY_TOKEN = '*';

/**
 * Named admin tokens. A token is `tba_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of
 * the whole token is compared in constant time. Recognised tokens are cached per replica for a
 * minute; a deletion anywhere evicts them everywhere through NOTIFY. While the listener is down
 * nothing is cached (each use reads the row), and the cache starts empty when it is back: a
 * deletion it missed cannot be served from memory.
 *
 * A token minted by a named token hangs from it: it expires no later and is deleted with it. A
 * token minted by a signed-in person (or from one they minted) works only while that person still
 * holds its role, as last seen at their own requests.
 */
@Injectable()
export class AdminTokensService implements OnModuleInit {
  private readonly cache = new Map<string, CachedToken>();
  /** Bumped by every eviction: a row read before one is used once but not cached. */
  private generation = 0;
  /** The role this replica last wrote for each signed-in person. */
  private readonly personRoles = new Map<string, AdminRole | null>();

  constructor(
    @InjectRepository(AdminTokenEntity) private readonly tokens: Repository<AdminTokenEntity>,
    @InjectRepository(AdminPersonEntity) private readonly people: Repository<AdminPersonEntity>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: ConnectionEvents,
    private readonly audit: AuditLog,
  ) {}

  onModuleInit(): void {
    this.events.onChange((change) => {
      if (change.kind === 'admin_token') this.evict(change.id);
    });
    // Down or back, the cache may hold what a missed NOTIFY revoked: it starts again empty.
    this.events.onListening(() => {
      this.cache.clear();
      this.generation += 1;
    });
  }

  /**
   * Records a signed-in person's current role (written when it changed since this replica last
   * wrote it): the tokens they minted are held to it. A weaker role evicts every replica's cache.
   */
  async notePerson(identity: AdminIdentity): Promise<void> {
    if (identity.kind !== 'oidc') return;
    if (this.personRoles.get(identity.actor) === identity.role && this.personRoles.size < 10_000) return;
    const rows: { role: AdminRole | null }[] = await this.db.query(
      `INSERT INTO admin_people (actor, role, seen_at) VALUES ($1, $2, now())
       ON CONFLICT (actor) DO UPDATE SET role = EXCLUDED.role, seen_at = now()
       RETURNING (SELECT role FROM admin_people WHERE actor = $1) AS role`,
      [identity.actor, identity.role],
    );
    if (this.personRoles.size >= 10_000) this.personRoles.clear();
    this.personRoles.set(identity.actor, identity.role);
    const before = rows[0]?.role ?? null;
    const weakened = before !== null && (identity.role === null || !roleAllows(identity.role, before));
    if (weakened) {
      await this.db.query('SELECT pg_notify($1, $2)', [
        CONNECTION_CHANNEL,
        JSON.stringify({ id: EVERY_TOKEN, key: 'admin_people', v: 0, kind: 'admin_token' }),
      ]);
      this.evict(EVERY_TOKEN);
    }
  }

  async create(dto: CreateAdminTokenDto, minter: AdminIdentity): Promise<CreatedAdminTokenView> {
    if (!minter.role || !roleAllows(minter.role, dto.role)) {
      throw new BrokerError(
        'forbidden',
        `a ${minter.role ?? 'role-less'} admin may not mint a token of role "${dto.role}"`,
      );
    }
    const parent = minter.tokenId ? await this.tokens.findOneBy({ id: minter.tokenId }) : null;
    if (minter.tokenId && !parent)
      throw new BrokerError('unauthorized', 'the minting admin token was revoked');
    if (minter.kind === 'oidc') await this.notePerson(minter);
    const asked = Date.now() + dto.expiresInDays * DAY_MS;
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
          // A child never outlives its parent.
          expiresAt: new Date(parent ? Math.min(asked, parent.expiresAt.getTime()) : asked),
          parentId: parent?.id ?? null,
          mintedByPerson: minter.kind === 'oidc' ? minter.actor : (parent?.mintedByPerson ?? null),
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
      details: {
        name: entity.name,
        role: entity.role,
        expiresInDays: dto.expiresInDays,
        expiresAt: entity.expiresAt.toISOString(),
        ...(parent ? { parent: parent.name } : {}),
      },
    });
    return { ...view(entity), token };
  }

  async list(): Promise<AdminTokenView[]> {
    return (await this.tokens.find({ order: { createdAt: 'ASC' } })).map(view);
  }

  async remove(id: string, actor: string): Promise<void> {
    const entity = /^[0-9a-f-]{36}$/i.test(id) ? await this.tokens.findOneBy({ id }) : null;
    if (!entity) throw BrokerError.notFound('admin token', id);
    // The token and every token minted from it, at any depth (the foreign key deletes them too).
    const removed: { id: string; name: string }[] = await this.db.transaction(async (manager) => {
      const family: { id: string; name: string }[] = await manager.query(
        `WITH RECURSIVE family AS (
           SELECT id, name FROM admin_tokens WHERE id = $1
           UNION SELECT t.id, t.name FROM admin_tokens t JOIN family f ON t.parent_id = f.id)
         SELECT id, name FROM family`,
        [id],
      );
      await manager.delete(AdminTokenEntity, { id });
      for (const member of family) {
        await manager.query('SELECT pg_notify($1, $2)', [
          CONNECTION_CHANNEL,
          JSON.stringify({ id: member.id, key: member.name, v: 0, kind: 'admin_token' }),
        ]);
      }
      return family;
    });
    for (const member of removed) this.evict(member.id);
    await this.audit.record({
      action: 'admin_token.delete',
      actor,
      targetType: 'admin_token',
      targetKey: id,
      details: {
        name: entity.name,
        ...(removed.length > 1
          ? { withMinted: removed.filter((member) => member.id !== id).map((member) => member.name) }
          : {}),
      },
    });
  }

  /** The identity behind a named token, or null when it is unknown, wrong or expired. */
  async authenticate(token: string): Promise<AdminIdentity | null> {
    const match = ADMIN_TOKEN_PATTERN.exec(token);
    if (!match) return null;
    const entry = await this.lookup(match[1]);
    if (!entry || !apiKeyMatches(token, entry.digest)) return null;
    if (entry.expiresAtMs <= Date.now()) return null;
    if (entry.role === null) return null; // the person who minted it holds no role any more
    return { kind: 'token', actor: `token:${entry.name}`, role: entry.role, tokenId: entry.id };
  }

  private async lookup(prefix: string): Promise<CachedToken | null> {
    const hit = this.cache.get(prefix);
    if (hit && Date.now() - hit.loadedAt <= CACHE_TTL_MS) return hit;
    const generation = this.generation;
    let entity: TokenRow | null;
    try {
      const rows: TokenRow[] = await this.db.query(
        `SELECT t.id, t.name, t.role, t.token_hash, t.expires_at, t.minted_by_person, p.role AS person_role
           FROM admin_tokens t LEFT JOIN admin_people p ON p.actor = t.minted_by_person
          WHERE t.token_prefix = $1`,
        [prefix],
      );
      entity = rows[0] ?? null;
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
      role:
        entity.minted_by_person === null
          ? entity.role
          : entity.person_role === null
            ? null
            : weakerRole(entity.role, entity.person_role),
      digest: Buffer.from(entity.token_hash, 'hex'),
      expiresAtMs: new Date(entity.expires_at).getTime(),
      loadedAt: Date.now(),
    };
    if (generation === this.generation && this.events.listening) this.cache.set(prefix, entry);
    return entry;
  }

  private evict(id: string): void {
    if (id === EVERY_TOKEN) {
      this.cache.clear();
      // Another replica wrote a person's role: what this one last wrote may be stale now.
      this.personRoles.clear();
    }
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
