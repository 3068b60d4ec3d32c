import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, ENCRYPTION_KEYS } from './support/broker-process';
import { createTestDatabase } from './support/test-database';
import { runMigrations } from '../apps/broker/src/database/run-migrations';

interface Enhancers {
  guards: string[];
  interceptors: number;
  pipes: number;
}
interface RouteWork {
  routes: Record<string, Record<string, number>>;
  controller: Enhancers;
  handler: Enhancers;
  global: { guards: number; interceptors: number; pipes: number } | false;
  instanceHooks: Record<string, number>;
}

/**
 * What a token read runs, listed from the built application as `main.ts` builds it, and compared
 * with what it must run: the caller guard and the controller call, nothing else. The admin
 * credential hook, helmet, the request log, Nest middleware, interceptors and pipes each once
 * reached this route or were kept off it on purpose (each cost a measurable share of the route's
 * CPU); a change that puts one back fails here, before a benchmark has to notice.
 */
describe('the token route runs only what a token read needs', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const out = mkdtempSync(join(tmpdir(), 'token-route-work-'));

  beforeAll(async () => {
    db = await createTestDatabase('route_work');
    await runMigrations(db.url);
  });

  afterAll(async () => {
    await db?.drop();
    rmSync(out, { recursive: true, force: true });
  });

  async function routeWork(label: string, env: Record<string, string>): Promise<RouteWork> {
    const file = join(out, `${label}.json`);
    const settings = {
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/12',
      BROKER_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
      BROKER_ADMIN_TOKEN: ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      ...env,
    };
    await promisify(execFile)(
      process.execPath,
      ['test/support/token-route-work.js', JSON.stringify(settings), file],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME } },
    );
    return JSON.parse(readFileSync(file, 'utf8')) as RouteWork;
  }

  it.each([
    ['a central broker with its defaults (role all, admin API and Swagger UI on)', 'central', {}],
    [
      'a token-only replica (role api, no admin API)',
      'token-only',
      { BROKER_ROLE: 'api', BROKER_ADMIN_API: 'false' },
    ],
  ])('%s', async (_name, label, env) => {
    const work = await routeWork(label, env);
    // No Fastify hook of the route's own, none of the instance's.
    expect(work.routes['GET /tokens/:connection']).toEqual({});
    expect(work.instanceHooks).toEqual({});
    // One guard (the caller's credential); no interceptor or pipe, on the route or the application.
    expect(work.controller).toEqual({ guards: ['CallerGuard'], interceptors: 0, pipes: 0 });
    expect(work.handler).toEqual({ guards: [], interceptors: 0, pipes: 0 });
    expect(work.global).toEqual({ guards: 0, interceptors: 0, pipes: 0 });
  });

  it('is not blind: an admin route lists its credential hook and helmet, its response hooks too', async () => {
    const work = await routeWork('admin', {});
    expect(work.routes['GET /admin/connections']).toEqual({ onRequest: 2, onResponse: 2 });
    expect(work.routes['GET /health/ready']).toEqual({ onRequest: 1 });
  });
});
