import type { DataSource } from 'typeorm';
import type { BrokerEnvironment } from '../config/environment';
import type { ConnectionChange, ConnectionEvents } from '../event-bus/connection-events';
import { TokenCache } from './token-cache';
import type { AccessToken } from './token-store';

/** The cache's only use of ConnectionEvents: a change listener and a listening listener. */
function eventSource() {
  const changes: ((change: ConnectionChange) => void)[] = [];
  const events = {
    onChange: (listener: (change: ConnectionChange) => void) => changes.push(listener),
    onListening: () => undefined,
  } as unknown as ConnectionEvents;
  return { events, announce: (change: ConnectionChange) => changes.forEach((listener) => listener(change)) };
}

function cacheOf(maxEntries: number) {
  const source = eventSource();
  const env = { BROKER_TOKEN_CACHE_MAX_ENTRIES: maxEntries } as BrokerEnvironment;
  return { cache: new TokenCache(source.events, {} as DataSource, env), announce: source.announce };
}

const token = (n: number, version = 1): AccessToken => ({
  connectionId: `id-${n}`,
  connectionKey: `key-${n}`,
  integrationId: 'integration-1',
  accessToken: `access-${n}-${version}`,
  tokenType: 'Bearer',
  expiresAtMs: Date.now() + 3_600_000,
  scope: null,
  tokenVersion: version,
  status: 'active',
  metadata: null,
});

describe('TokenCache', () => {
  it('holds at most its bound, the least recently read leaving first', () => {
    const { cache } = cacheOf(3);
    for (const n of [1, 2, 3]) cache.set(token(n));
    expect(cache.get('key-1', 0)).toBeDefined(); // 1 is now the most recently used
    cache.set(token(4));
    expect(cache.size).toBe(3);
    expect(cache.get('key-2', 0)).toBeUndefined();
    for (const n of [1, 3, 4]) expect(cache.get(`key-${n}`, 0)?.accessToken).toBe(`access-${n}-1`);
  });

  it('forgets the id of an evicted entry, so it cannot evict a later connection under the same key', () => {
    const { cache } = cacheOf(1);
    cache.set(token(1));
    cache.set(token(2)); // evicts key-1 (id-1)
    cache.set({ ...token(1), connectionId: 'id-9' }); // key-1 again, a new connection
    cache.evictById('id-1');
    expect(cache.get('key-1', 0)?.connectionId).toBe('id-9');
  });

  it('replace() updates a held token but brings no new connection in', () => {
    const { cache } = cacheOf(10);
    cache.set(token(1));
    cache.replace(token(1, 2));
    cache.replace(token(2, 2));
    expect(cache.get('key-1', 0)?.tokenVersion).toBe(2);
    expect(cache.get('key-2', 0)).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('never goes back to an older version, by set() or replace()', () => {
    const { cache } = cacheOf(10);
    cache.set(token(1, 3));
    cache.set(token(1, 2));
    cache.replace(token(1, 1));
    expect(cache.get('key-1', 0)?.tokenVersion).toBe(3);
  });

  it('drops an entry when another replica announces a newer version', () => {
    const { cache, announce } = cacheOf(10);
    cache.set(token(1));
    announce({ id: 'id-1', key: 'key-1', v: 2, kind: 'tokens' });
    expect(cache.get('key-1', 0)).toBeUndefined();
  });
});
