// npm run bench scale: the scheduler's cost at a million connections (issue 17).
//
// For this build, and side by side for another one (BENCH_SCALE_BASELINE=<its dist main.js>, e.g.
// a `git worktree` of main built in /tmp), on Redis DB 13 and a database of its own:
//   import   N connections in batches of 1,000 through POST /admin/connections/import (tokens
//            valid for 3 days: nothing due), four batches in flight;
//   idle     then, over one minute with nothing due: broker CPU, Redis CPU (the whole server's),
//            script calls on DB 13 (counted with MONITOR), rows read from `connections`
//            (pg_stat_user_tables), Redis memory growth and broker RSS;
//   paging   GET /admin/connections?after=<the last key> (the deepest page) and ?offset=N-100;
//   due      D connections the sandbox really authorized, due over the next DUE_WINDOW seconds,
//            the sandbox answering each token call after 50 ms: all refreshed, scheduler lag p99,
//            refresh-token reuse; FLUSHDB at a third of the window: every one still on time;
//   when_read the N imported connections' integration is `when_read`: all of them come due
//            within 5 minutes (BENCH_SCALE_WHEN_READ_WINDOW_SECONDS) while 1 % are read; upstream
//            calls counted.
// Variables: BENCH_SCALE_CONNECTIONS (N, default 1,000,000), BENCH_SCALE_DUE (D, default
// 100,000), BENCH_SCALE_DUE_WINDOW_SECONDS (default 600), BENCH_SCALE_PHASES (default
// "import,idle,paging,due,when_read"), BENCH_SCALE_BASELINE_CONNECTIONS (N for the baseline),
// BENCH_SCALE_TOKEN_LATENCY_MS (the sandbox's answer time in the due phase, 50).
const { writeFileSync } = require('node:fs');
const { Redis } = require('ioredis');
const {
  adminCall,
  createBloomerangIntegration,
  createDatabase,
  fmt,
  loadSandbox,
  processUsage,
  sleep,
  sql,
  startBroker,
} = require('./support');

const REDIS_URL = 'redis://127.0.0.1:6379/13';
const REDIS_DB = 13;
const BATCH = 1_000;
/**
 * The bench broker's horizon. Rows are moved into the window by SQL (as time passing would), past
 * the horizon the last sweep already filled, so a shorter horizon than the default (600 s) keeps
 * the run short; the sweep interval stays the default 60 s.
 */
const HORIZON_SECONDS = 120;

/** How long the sandbox takes to answer each token call in the due phase. */
const TOKEN_LATENCY_MS = Number(process.env.BENCH_SCALE_TOKEN_LATENCY_MS || 50);

function settings() {
  const phases = (process.env.BENCH_SCALE_PHASES || 'import,idle,paging,due,when_read').split(',');
  return {
    connections: Number(process.env.BENCH_SCALE_CONNECTIONS || 1_000_000),
    due: Number(process.env.BENCH_SCALE_DUE || 100_000),
    dueWindowSeconds: Number(process.env.BENCH_SCALE_DUE_WINDOW_SECONDS || 600),
    phases: new Set(phases),
    baseline: process.env.BENCH_SCALE_BASELINE || null,
    baselineConnections: Number(
      process.env.BENCH_SCALE_BASELINE_CONNECTIONS || process.env.BENCH_SCALE_CONNECTIONS || 1_000_000,
    ),
  };
}

async function run() {
  const s = settings();
  const summary = { settings: { ...s, phases: [...s.phases] }, builds: {} };
  summary.builds.this = await measureBuild(undefined, s.connections, s);
  if (s.baseline) {
    // The build before the change: import and idle only (its due work is not what changed).
    const phases = new Set([...s.phases].filter((phase) => ['import', 'idle', 'paging'].includes(phase)));
    summary.builds.baseline = await measureBuild(s.baseline, s.baselineConnections, { ...s, phases });
  }
  return summary;
}

async function measureBuild(main, count, s) {
  const result = { connections: count };
  const redis = new Redis(REDIS_URL);
  await redis.flushdb();
  const memoryBefore = await usedMemory(redis);
  const { createSandbox, SANDBOX_CLIENTS } = loadSandbox();
  // Room for every due connection's code, tokens and spent refresh tokens (reuse detection keeps
  // them): past its ceiling the sandbox forgets live tokens, and their refreshes would fail.
  const sandbox = createSandbox({
    autoApprove: true,
    accessTokenTtlSeconds: 3600,
    maxRecordsPerKind: Math.max(100_000, 4 * s.due),
  });
  const sandboxUrl = await sandbox.listen(0);
  const db = await createDatabase('scale');
  const broker = await startBroker(
    {
      DATABASE_URL: db.url,
      REDIS_URL,
      BROKER_INTEGRATION_CONCURRENCY: '40',
      BROKER_WORKER_CONCURRENCY: '100',
      BROKER_SCHEDULE_HORIZON_SECONDS: String(HORIZON_SECONDS),
    },
    // As the image and `npm start` run it (Dockerfile CMD).
    ['--max-old-space-size=192'],
    main,
  );
  try {
    await createBloomerangIntegration(broker.url, sandboxUrl, 'idle-crm');
    await createBloomerangIntegration(broker.url, sandboxUrl, 'due-crm');
    const { apiKey } = await adminCall(broker.url, 'POST', '/admin/clients', {
      name: 'scale',
      connections: ['*'],
    });

    if (s.phases.has('import')) {
      const started = Date.now();
      const cpu = processUsage(broker.child.pid).cpuSeconds;
      let next = 0;
      let slowest = 0;
      await Promise.all(
        [0, 1, 2, 3].map(async () => {
          while (next < count) {
            const from = next;
            next += BATCH;
            const batchStarted = Date.now();
            const response = await adminCall(broker.url, 'POST', '/admin/connections/import', {
              connections: idleBatch(from, Math.min(BATCH, count - from)),
            });
            slowest = Math.max(slowest, Date.now() - batchStarted);
            if (!response.results || response.results.some((r) => r.status !== 'active'))
              throw new Error(`import batch at ${from} failed: ${JSON.stringify(response).slice(0, 300)}`);
            if (from % 100_000 === 0)
              process.stdout.write(`  imported ${from} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
          }
        }),
      );
      result.importSeconds = (Date.now() - started) / 1000;
      result.importBrokerCpuSeconds = processUsage(broker.child.pid).cpuSeconds - cpu;
      result.importSlowestBatchMs = slowest;
    }

    if (s.phases.has('idle')) {
      // Let the import's last analyses, sweeps and autovacuum settle, then watch one minute.
      await sleep(30_000);
      const minute = await watchMinute(broker, db.url, redis);
      Object.assign(result, minute);
      result.redisMemoryMb = ((await usedMemory(redis)) - memoryBefore) / 1024 / 1024;
      result.redisKeysDb13 = await redis.dbsize();
      result.brokerRssMb = processUsage(broker.child.pid).rssMb;
    }

    if (s.phases.has('paging') && count > 200) {
      const [{ last }] = await sql(
        db.url,
        `SELECT key AS last FROM connections WHERE key < 'idle-9999999' ORDER BY key DESC OFFSET 100 LIMIT 1`,
      );
      // Median of 5 calls each (the first of a route pays for its JIT). A build without the
      // cursor refuses `after` (400): reported as absent.
      const medianOf = async (work) => {
        const times = [];
        for (let i = 0; i < 5; i++) times.push(await timed(work));
        return times.sort((x, y) => x - y)[2];
      };
      result.pageAfterMs = await medianOf(async () => {
        const page = await adminCall(broker.url, 'GET', `/admin/connections?limit=100&after=${last}`);
        if (!Array.isArray(page) || page.length !== 100) throw new Error('after page not 100 rows');
      }).catch(() => null);
      result.pageOffsetMs = await medianOf(() =>
        adminCall(broker.url, 'GET', `/admin/connections?limit=100&offset=${count - 100}`),
      );
    }

    if (s.phases.has('due') && s.due > 0)
      Object.assign(result, await dueWork(broker, db, redis, sandbox, sandboxUrl, SANDBOX_CLIENTS, s));

    if (s.phases.has('when_read')) Object.assign(result, await whenRead(broker, db, sandbox, apiKey, count));
  } finally {
    await broker.stop();
    await sandbox.close();
    // BENCH_SCALE_KEEP_DB=1 leaves the database for a post-mortem (its name is printed).
    if (process.env.BENCH_SCALE_KEEP_DB) process.stdout.write(`  kept database ${db.url}\n`);
    else await db.drop();
    await redis.flushdb();
    redis.disconnect();
  }
  return result;
}

function idleBatch(from, size) {
  const expiresAt = new Date(Date.now() + 3 * 86_400_000).toISOString();
  // As an export from another system states it: when_read defers a cold connection to its refresh
  // token's keep-alive only when it knows when that token lapses (Bloomerang: 90 days).
  const refreshTokenExpiresAt = new Date(Date.now() + 60 * 86_400_000).toISOString();
  return Array.from({ length: size }, (_, i) => ({
    key: `idle-${String(from + i).padStart(7, '0')}`,
    integration: 'idle-crm',
    refreshToken: `imported-refresh-token-${from + i}-0123456789abcdef`,
    accessToken: `imported-access-token-${from + i}-0123456789abcdef`,
    expiresAt,
    refreshTokenExpiresAt,
  }));
}

async function timed(work) {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function usedMemory(redis) {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))[1]);
}

async function redisCpuSeconds(redis) {
  const info = await redis.info('cpu');
  return Number(/used_cpu_sys:([\d.]+)/.exec(info)[1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)[1]);
}

async function connectionRowsRead(dbUrl) {
  const [row] = await sql(
    dbUrl,
    `SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) AS n FROM pg_stat_user_tables WHERE relname = 'connections'`,
  );
  return Number(row.n);
}

/** One minute of a broker with nothing due: what it costs. */
async function watchMinute(broker, dbUrl, redis) {
  const monitor = new Redis(REDIS_URL);
  let scriptCalls = 0;
  let commands = 0;
  const watcher = await monitor.monitor();
  watcher.on('monitor', (_time, args, _source, database) => {
    if (Number(database) !== REDIS_DB) return;
    commands += 1;
    const name = String(args[0]).toLowerCase();
    if (name === 'evalsha' || name === 'eval' || name === 'fcall') scriptCalls += 1;
  });
  await sleep(1_000); // pg_stat counters are flushed at most once a second
  const rowsBefore = await connectionRowsRead(dbUrl);
  const cpuBefore = processUsage(broker.child.pid).cpuSeconds;
  const redisCpuBefore = await redisCpuSeconds(redis);
  await sleep(60_000);
  const brokerCpu = processUsage(broker.child.pid).cpuSeconds - cpuBefore;
  const redisCpu = (await redisCpuSeconds(redis)) - redisCpuBefore;
  await sleep(1_500);
  const rows = (await connectionRowsRead(dbUrl)) - rowsBefore;
  watcher.disconnect();
  monitor.disconnect();
  return {
    idleBrokerCpuSecondsPerMinute: brokerCpu,
    idleRedisServerCpuSecondsPerMinute: redisCpu,
    idleScriptCallsPerMinute: scriptCalls,
    idleRedisCommandsPerMinute: commands,
    idleConnectionRowsReadPerMinute: rows,
  };
}

async function issueGrant(sandboxUrl, client) {
  const redirectUri = 'http://127.0.0.1/oauth/callback';
  const authorize = new URL(`${sandboxUrl}/bloomerang/Authorize`);
  authorize.search = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    state: 'bench',
    sandbox_decision: 'approve',
  }).toString();
  const redirect = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code');
  const basic = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString('base64');
  const exchange = await fetch(`${sandboxUrl}/bloomerang/v2/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
  });
  const body = await exchange.json();
  if (exchange.status !== 200) throw new Error(`code exchange failed: ${exchange.status}`);
  return body;
}

/** D real connections due over the window, a FLUSHDB a third of the way in. */
async function dueWork(broker, db, redis, sandbox, sandboxUrl, clients, s) {
  const client = clients.bloomerang;
  const started = Date.now();
  for (let from = 0; from < s.due; from += BATCH) {
    const size = Math.min(BATCH, s.due - from);
    const grants = [];
    for (let i = 0; i < size; i += 50) {
      grants.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, size - i) }, () => issueGrant(sandboxUrl, client)),
        )),
      );
    }
    const response = await adminCall(broker.url, 'POST', '/admin/connections/import', {
      connections: grants.map((grant, i) => ({
        key: `due-${String(from + i).padStart(7, '0')}`,
        integration: 'due-crm',
        refreshToken: grant.refresh_token,
        accessToken: grant.access_token,
        expiresAt: new Date(Date.now() + grant.expires_in * 1000).toISOString(),
      })),
    });
    if (response.results.some((r) => r.status !== 'active')) throw new Error('due import failed');
  }
  const prepareSeconds = (Date.now() - started) / 1000;
  sandbox.configure({ tokenLatencyMs: TOKEN_LATENCY_MS });
  const before = sandbox.stats();
  const grantsBefore = before.tokenRequests.byProvider.bloomerang.refresh_token ?? 0;
  // As time passing would: each comes due at its own moment of the window, past the horizon the
  // last sweep filled. The plans are kept, to measure each refresh against its own.
  const plans = new Map(
    (
      await sql(
        db.url,
        `UPDATE connections SET next_refresh_at = now() + make_interval(secs => $2 + random() * $1)
          WHERE key LIKE 'due-%' RETURNING key, next_refresh_at AS "planned"`,
        [s.dueWindowSeconds, HORIZON_SECONDS + 5],
      )
    ).map((row) => [row.key, row.planned.getTime()]),
  );
  const windowStart = Date.now();
  let flushedAt = null;
  const cpu = processUsage(broker.child.pid).cpuSeconds;
  let flushed = false;
  let peakRss = 0;
  for (;;) {
    await sleep(5_000);
    peakRss = Math.max(peakRss, processUsage(broker.child.pid).rssMb);
    if (!flushed && Date.now() - windowStart > (HORIZON_SECONDS + s.dueWindowSeconds / 3) * 1000) {
      await redis.flushdb();
      flushed = true;
      flushedAt = Date.now();
    }
    // Progress from the sandbox's own counter: a count over the table every few seconds would
    // scan a million rows and load the Postgres the broker is being measured on.
    const grants = (sandbox.stats().tokenRequests.byProvider.bloomerang.refresh_token ?? 0) - grantsBefore;
    const elapsed = Math.round((Date.now() - windowStart) / 1000);
    if (elapsed % 30 < 5) process.stdout.write(`  due +${elapsed} s: ${grants} upstream refreshes\n`);
    if (grants >= s.due || Date.now() - windowStart > (HORIZON_SECONDS + s.dueWindowSeconds + 120) * 1000)
      break;
  }
  await sleep(5_000); // the last answers' writes
  // How late each refresh ran after its plan: from the rows (the plan is the previous next_refresh_at).
  const metrics = await (await fetch(`${broker.url}/metrics`)).text();
  const [late] = await sql(
    db.url,
    `SELECT count(*)::int AS refreshed,
            count(*) FILTER (WHERE last_refreshed_at IS NULL)::int AS missed
       FROM connections WHERE key LIKE 'due-%'`,
  );
  // How late each refresh landed (its write) after its own plan; those planned within 30 s after
  // the flush apart, as the rebuild's share.
  const written = await sql(
    db.url,
    `SELECT key, last_refreshed_at AS "at" FROM connections WHERE key LIKE 'due-%' AND last_refreshed_at IS NOT NULL`,
  );
  const lateness = { all: [], steady: [], afterFlush: [] };
  for (const row of written) {
    const planned = plans.get(row.key);
    const late = (row.at.getTime() - planned) / 1000;
    lateness.all.push(late);
    const inShadow = flushedAt !== null && planned >= flushedAt && planned < flushedAt + 30_000;
    (inShadow ? lateness.afterFlush : lateness.steady).push(late);
  }
  // BENCH_SCALE_LATENESS_CSV=<file>: every refresh as "seconds from the flush to its plan, seconds late".
  if (process.env.BENCH_SCALE_LATENESS_CSV) {
    const lines = written.map((row) => {
      const planned = plans.get(row.key);
      return `${((planned - (flushedAt ?? windowStart)) / 1000).toFixed(3)},${((row.at.getTime() - planned) / 1000).toFixed(3)}`;
    });
    writeFileSync(
      process.env.BENCH_SCALE_LATENESS_CSV,
      `planned_after_flush_s,late_s\n${lines.join('\n')}\n`,
    );
  }
  const spread = (values) => {
    const sorted = [...values].sort((x, y) => x - y);
    const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
    return sorted.length === 0
      ? null
      : {
          n: sorted.length,
          p50: at(50),
          p99: at(99),
          max: sorted.at(-1),
          over2s: sorted.filter((x) => x > 2).length,
        };
  };
  // What the rows say at the end: a row not refreshed is either late or stopped (status, error code).
  const outcomes = await sql(
    db.url,
    `SELECT status, COALESCE(last_error_code, '') AS code, (last_refreshed_at IS NOT NULL) AS refreshed,
            count(*)::int AS n
       FROM connections WHERE key LIKE 'due-%' GROUP BY 1, 2, 3 ORDER BY n DESC`,
  );
  const after = sandbox.stats();
  sandbox.configure({ tokenLatencyMs: 0 });
  return {
    dueConnections: s.due,
    duePrepareSeconds: prepareSeconds,
    dueWindowSeconds: s.dueWindowSeconds,
    dueRefreshed: late.refreshed - late.missed,
    dueMissed: late.missed,
    dueSchedulerLagP99Seconds: histogramPercentile(metrics, 'broker_scheduler_lag_seconds', 99),
    dueSchedulerLagP50Seconds: histogramPercentile(metrics, 'broker_scheduler_lag_seconds', 50),
    dueUpstreamRefreshCalls:
      (after.tokenRequests.byProvider.bloomerang.refresh_token ?? 0) -
      (before.tokenRequests.byProvider.bloomerang.refresh_token ?? 0),
    dueRefreshTokenReuses: after.refreshTokenReuses - before.refreshTokenReuses,
    dueSandboxEvictions: after.liveRecordsEvicted,
    dueWrittenLate: spread(lateness.all),
    dueWrittenLateSteady: spread(lateness.steady),
    dueWrittenLateAfterFlush: spread(lateness.afterFlush),
    dueOutcomes: outcomes
      .map((o) => `${o.n} ${o.status}${o.code ? `/${o.code}` : ''}${o.refreshed ? '' : ' (not refreshed)'}`)
      .join(', '),
    dueBrokerCpuSeconds: processUsage(broker.child.pid).cpuSeconds - cpu,
    duePeakRssMb: peakRss,
    dueFlushedAtSeconds: Math.round(s.dueWindowSeconds / 3),
    horizonSeconds: HORIZON_SECONDS,
  };
}

/** `when_read`: every idle connection comes due within 5 minutes, 1 % of them are read. */
async function whenRead(broker, db, sandbox, apiKey, count) {
  await adminCall(broker.url, 'PATCH', '/admin/integrations/idle-crm', { refreshAhead: 'when_read' });
  const read = Math.max(1, Math.floor(count / 100));
  const stride = Math.floor(count / read);
  const keys = Array.from({ length: read }, (_, i) => `idle-${String(i * stride).padStart(7, '0')}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < keys.length) {
        const key = keys[next++];
        const response = await fetch(`${broker.url}/tokens/${key}`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        await response.arrayBuffer();
      }
    }),
  );
  await sleep(35_000); // the read recorder's flush
  const before = sandbox.stats().tokenRequests.byProvider.bloomerang.refresh_token ?? 0;
  const windowSeconds = Number(process.env.BENCH_SCALE_WHEN_READ_WINDOW_SECONDS || 300);
  await sql(
    db.url,
    `UPDATE connections SET next_refresh_at = now() + make_interval(secs => $2 + random() * $1)
      WHERE key LIKE 'idle-%'`,
    [windowSeconds, HORIZON_SECONDS + 5],
  );
  await sleep((HORIZON_SECONDS + windowSeconds + 60) * 1000);
  const calls = (sandbox.stats().tokenRequests.byProvider.bloomerang.refresh_token ?? 0) - before;
  const [{ deferred }] = await sql(
    db.url,
    `SELECT count(*)::int AS deferred FROM connections WHERE key LIKE 'idle-%' AND (next_refresh_at IS NULL OR next_refresh_at > now() + interval '1 hour')`,
  );
  return {
    whenReadConnections: count,
    whenReadWindowSeconds: windowSeconds,
    whenReadRead: read,
    whenReadUpstreamCalls: calls,
    whenReadDeferred: deferred,
  };
}

/** The upper bound of the bucket holding the p-th percentile of a Prometheus histogram. */
function histogramPercentile(text, name, p) {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm'))].map(
    (m) => ({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) }),
  );
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  return buckets.find((b) => b.count >= (p / 100) * total).le;
}

function rows(summary) {
  const t = summary.builds.this;
  const b = summary.builds.baseline ?? {};
  const both = (value, format = (x) => fmt(x, 2)) =>
    value === undefined || value === null ? '—' : format(value);
  const pair = (key, format) =>
    `${both(t[key], format)}${summary.builds.baseline ? ` | before: ${both(b[key], format)}` : ''}`;
  const out = [
    [
      'scale: connections (this | before)',
      `${t.connections}${summary.builds.baseline ? ` | ${b.connections}` : ''}`,
      '',
    ],
  ];
  if (t.importSeconds !== undefined) out.push(['scale: import time, s', pair('importSeconds'), '1M ≤ 300 s']);
  if (t.idleBrokerCpuSecondsPerMinute !== undefined) {
    out.push(
      ['scale idle: broker CPU s/min', pair('idleBrokerCpuSecondsPerMinute'), '≤ 1'],
      [
        'scale idle: Redis server CPU s/min (shared server)',
        pair('idleRedisServerCpuSecondsPerMinute'),
        '≤ 1',
      ],
      ['scale idle: script calls/min on DB 13', pair('idleScriptCallsPerMinute'), '≤ 1,000'],
      ['scale idle: rows read from connections/min', pair('idleConnectionRowsReadPerMinute'), '≤ 10,000'],
      ['scale idle: Redis memory growth, MB', pair('redisMemoryMb'), '≤ 64'],
      ['scale idle: broker RSS, MB', pair('brokerRssMb'), '≤ 256'],
    );
  }
  if (t.pageAfterMs !== undefined)
    out.push(
      ['scale: deepest page with after, ms', pair('pageAfterMs'), 'milliseconds'],
      ['scale: deepest page with offset, ms', pair('pageOffsetMs'), '(for comparison)'],
    );
  if (t.dueConnections !== undefined)
    out.push(
      [
        `scale due: ${t.dueConnections} over ${t.dueWindowSeconds} s (horizon ${t.horizonSeconds} s), refreshed / missed`,
        `${t.dueRefreshed} / ${t.dueMissed}`,
        'all / 0',
      ],
      [
        'scale due: scheduler lag p50 / p99 (bucket), s',
        `${t.dueSchedulerLagP50Seconds} / ${t.dueSchedulerLagP99Seconds}`,
        'p99 ≤ 2',
      ],
      ...[
        ['all', t.dueWrittenLate],
        ['away from the flush', t.dueWrittenLateSteady],
        ['planned within 30 s after the flush', t.dueWrittenLateAfterFlush],
      ].map(([label, x]) => [
        `scale due: written after the plan, ${label}: p50 / p99 / max s (n, > 2 s)`,
        x ? `${fmt(x.p50, 2)} / ${fmt(x.p99, 2)} / ${fmt(x.max, 1)} (${x.n}, ${x.over2s})` : '—',
        'p99 ≤ 2',
      ]),
      ['scale due: refresh-token reuse', String(t.dueRefreshTokenReuses), '0'],
      ['scale due: rows at the end', t.dueOutcomes, 'all active, refreshed'],
      ['scale due: live tokens the sandbox forgot (its ceiling)', String(t.dueSandboxEvictions), '0'],
      ['scale due: upstream refresh calls', String(t.dueUpstreamRefreshCalls), `= ${t.dueConnections}`],
      [
        `scale due: FLUSHDB ${t.dueFlushedAtSeconds} s into the window, then all on time`,
        t.dueMissed === 0 ? 'yes' : 'no',
        'yes',
      ],
    );
  if (t.whenReadConnections !== undefined)
    out.push([
      `scale when_read: ${t.whenReadConnections} due within ${t.whenReadWindowSeconds} s, ${t.whenReadRead} read: upstream calls`,
      `${t.whenReadUpstreamCalls} (deferred ${t.whenReadDeferred})`,
      `≈ ${t.whenReadRead}, not ${t.whenReadConnections}`,
    ]);
  return out;
}

module.exports = { run, rows };
