import { HttpStatus } from '@nestjs/common';
import type { HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import type { RefreshQueue } from '../scheduler/refresh-queue';
import type { TokenCache } from '../tokens/token-cache';
import { ReadinessCheck } from './readiness';

/** The rule alone: which dependencies answer, whether migrations are pending, whether the cache holds a valid token. */
function readiness(state: { postgres: boolean; redis: boolean; pending: boolean; cached: boolean }) {
  const result = (name: string, up: boolean) => ({
    [name]: up ? { status: 'up' } : { status: 'down', message: `${name} does not answer` },
  });
  const postgres = {
    pingCheck: async () => result('postgres', state.postgres),
  } as unknown as TypeOrmHealthIndicator;
  const indicators = {
    check: (name: string) => ({
      attempt: () => ({ withTimeout: async () => result(name, state.redis) }),
    }),
  } as unknown as HealthIndicatorService;
  const cache = { holdsValidTokens: () => state.cached } as unknown as TokenCache;
  const db = { showMigrations: async () => state.pending } as unknown as DataSource;
  return new ReadinessCheck(postgres, indicators, {} as RefreshQueue, cache, db);
}

describe('ReadinessCheck', () => {
  it('is not ready until Postgres was reached with every migration applied', async () => {
    const state = { postgres: false, redis: true, pending: false, cached: true };
    const check = readiness(state);
    expect((await check.check()).httpStatus).toBe(HttpStatus.SERVICE_UNAVAILABLE);
    state.postgres = true;
    state.pending = true;
    expect((await check.check()).httpStatus).toBe(HttpStatus.SERVICE_UNAVAILABLE);
    state.pending = false;
    const ready = await check.check();
    expect(ready.httpStatus).toBe(HttpStatus.OK);
    expect(ready.body).toMatchObject({ status: 'ok', degraded: [] });
  });

  it('stays ready, naming what is missing, while it can serve token reads', async () => {
    const state = { postgres: true, redis: true, pending: false, cached: true };
    const check = readiness(state);
    await check.check();
    state.redis = false;
    expect(await check.check()).toMatchObject({
      httpStatus: HttpStatus.OK,
      body: { status: 'degraded', degraded: ['redis'] },
    });
    state.postgres = false;
    expect(await check.check()).toMatchObject({
      httpStatus: HttpStatus.OK,
      body: { status: 'degraded', degraded: ['postgres', 'redis'] },
    });
  });

  it('is not ready without Postgres once no valid token is left to serve', async () => {
    const state = { postgres: true, redis: true, pending: false, cached: false };
    const check = readiness(state);
    await check.check();
    state.postgres = false;
    expect(await check.check()).toMatchObject({
      httpStatus: HttpStatus.SERVICE_UNAVAILABLE,
      body: { status: 'error', degraded: [] },
    });
  });
});
