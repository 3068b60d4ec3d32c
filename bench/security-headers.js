// node bench/security-headers.js: what the security headers cost on the token path, in server CPU
// per request (from /proc, so the load generator's own CPU is not counted), three variants of the
// built broker measured in interleaved rounds:
//   lean    the build as it is: helmet's headers from a route hook on every route but the token
//           route, which sends nosniff with its own headers;
//   helmet  helmet's hook on the token route too;
//   none    no security headers at all.
// The variants are copies of dist/ under .tmp/ with http-headers.js patched.
const autocannon = require('autocannon');
const { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const {
  adminCall,
  createBloomIntegration,
  createDatabase,
  loadSandbox,
  median,
  processUsage,
  startBroker,
} = require('./support');

const ROOT = path.resolve(__dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS || 40000);
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379/1';

const PATCHES = {
  lean: (source) => source,
  helmet: (source) => patched(source, /NOSNIFF_ONLY_ROUTE = \{[^;]*\};/, 'NOSNIFF_ONLY_ROUTE = {};'),
  none: (source) => patched(source, /function registerSecurityHeaders\(app\) \{/, '$&\n    return;'),
};

function patched(source, pattern, replacement) {
  if (!pattern.test(source)) throw new Error(`http-headers.js no longer matches ${pattern}`);
  return source.replace(pattern, replacement);
}

const variantDir = (name) => path.join(ROOT, '.tmp', `bench-headers-${name}`);

function variantMain(name) {
  const dir = variantDir(name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  const file = path.join(dir, 'dist/apps/broker/src/security/http-headers.js');
  writeFileSync(file, PATCHES[name](readFileSync(file, 'utf8')));
  return path.join(dir, 'dist/apps/broker/src/main.js');
}

/** A broker from the variant's build, as the token path's sidecar runs it (role api). */
function startVariant(main, databaseUrl) {
  return startBroker({ BROKER_ROLE: 'api', DATABASE_URL: databaseUrl, REDIS_URL }, [], main);
}

async function main() {
  const { createSandbox } = loadSandbox();
  const sandbox = createSandbox();
  const sandboxUrl = await sandbox.listen(0);
  const db = await createDatabase('headers');
  const mains = Object.fromEntries(Object.keys(PATCHES).map((name) => [name, variantMain(name)]));
  const figures = Object.fromEntries(Object.keys(PATCHES).map((name) => [name, []]));
  try {
    // One broker sets the data up; every variant reads the same connection.
    const setup = await startVariant(mains.lean, db.url);
    await createBloomIntegration(setup.url, sandboxUrl);
    await adminCall(setup.url, 'POST', '/admin/connections', { key: 'credit', integration: 'bloom' });
    const { apiKey } = await adminCall(setup.url, 'POST', '/admin/clients', {
      name: 'bench',
      connections: ['*'],
    });
    await setup.stop();
    const cannon = (url, amount) =>
      autocannon({
        url: `${url}/tokens/credit`,
        connections: 10,
        amount,
        headers: { authorization: `Bearer ${apiKey}` },
      });
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(PATCHES)) {
        const broker = await startVariant(mains[name], db.url);
        try {
          const probe = await fetch(`${broker.url}/tokens/credit`, {
            headers: { authorization: `Bearer ${apiKey}` },
          });
          if (!probe.ok) throw new Error(`${name}: token path answered ${probe.status}`);
          const headers = {
            csp: probe.headers.get('content-security-policy'),
            coop: probe.headers.get('cross-origin-opener-policy'),
          };
          await cannon(broker.url, REQUESTS / 2); // warm-up
          const before = processUsage(broker.child.pid).cpuSeconds;
          const result = await cannon(broker.url, REQUESTS);
          const cpuSeconds = processUsage(broker.child.pid).cpuSeconds - before;
          const usPerRequest = (cpuSeconds * 1e6) / result.requests.total;
          figures[name].push({ usPerRequest, rps: result.requests.average, non2xx: result.non2xx, headers });
          process.stdout.write(
            `  round ${round + 1} ${name}: ${usPerRequest.toFixed(1)} µs CPU/request, ${Math.round(result.requests.average)} req/s\n`,
          );
        } finally {
          await broker.stop();
        }
      }
    }
  } finally {
    await sandbox.close();
    await db.drop();
    for (const name of Object.keys(PATCHES)) rmSync(variantDir(name), { recursive: true, force: true });
  }
  const summary = Object.fromEntries(
    Object.entries(figures).map(([name, list]) => [
      name,
      {
        cpuUsPerRequest: +median(list.map((f) => f.usPerRequest)).toFixed(1),
        rps: Math.round(median(list.map((f) => f.rps))),
        non2xx: list.reduce((sum, f) => sum + f.non2xx, 0),
        csp: list[0].headers.csp,
        helmetSet: list[0].headers.coop !== null,
      },
    ]),
  );
  console.table(summary);
  process.stdout.write(
    `lean vs none: ${(summary.lean.cpuUsPerRequest / summary.none.cpuUsPerRequest).toFixed(3)}x CPU per request; ` +
      `helmet vs none: ${(summary.helmet.cpuUsPerRequest / summary.none.cpuUsPerRequest).toFixed(3)}x\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
