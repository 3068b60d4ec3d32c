// Creates one integration and connection per sandbox provider through the admin API, completes the
// Bloomerang authorization against the sandbox, creates a client, checks that a token request with
// its API key answers 200, and prints that request as a `curl` to paste.
// Run again (a second first look, or `docker compose up` again) it keeps what exists: the
// integrations, the connections and the client whose key it saved in stateDir. Only the Bloomerang
// authorization is done anew each time: the sandbox keeps its grants in memory, so a restarted
// sandbox no longer knows the refresh token the broker holds.
//   node scripts/first-look-seed.js <brokerUrl> <sandboxUrl> <logDir> [stateDir]
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const [brokerUrl, sandboxUrl, logDir, stateDir = logDir] = process.argv.slice(2);
const adminToken = process.env.BROKER_ADMIN_TOKEN;
// What the person at the terminal types: the broker's port as this machine (or Docker) publishes it.
const publicBrokerUrl = process.env.FIRST_LOOK_PUBLIC_URL ?? 'http://127.0.0.1:3000';
const apiKeyFile = join(stateDir, 'first-look-client-api-key');
const logsHint =
  process.env.FIRST_LOOK_LOGS ?? `${logDir}/broker.log and ${logDir}/sandbox.log (tail -f to follow)`;

async function waitFor(url) {
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${url} did not answer`);
}

async function admin(method, path, body, { allowConflict = true } = {}) {
  const response = await fetch(`${brokerUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (response.status >= 400 && !(allowConflict && response.status === 409)) {
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  }
  return json;
}

/** Plays the account's user: approves on the sandbox, then follows its redirect to the broker's callback. */
async function approve(authorizationUrl) {
  const approval = await fetch(`${authorizationUrl}&sandbox_decision=approve`, { redirect: 'manual' });
  const callback = approval.headers.get('location');
  if (!callback) throw new Error(`the sandbox did not redirect after approval (${approval.status})`);
  // The redirect names BROKER_PUBLIC_URL; this script reaches the broker at brokerUrl.
  const url = new URL(callback);
  const answer = await fetch(`${brokerUrl}${url.pathname}${url.search}`, { redirect: 'manual' });
  if (answer.status >= 400) throw new Error(`the broker's OAuth callback answered ${answer.status}`);
}

async function tokenStatus(apiKey) {
  const response = await fetch(`${brokerUrl}/tokens/bloomerang-demo`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  return { status: response.status, body: await response.text() };
}

/** The client's key saved by an earlier run when the broker still takes it, else a new client's. */
async function clientApiKey() {
  if (existsSync(apiKeyFile)) {
    const saved = readFileSync(apiKeyFile, 'utf8').trim();
    if (saved && (await tokenStatus(saved)).status !== 401) return saved;
  }
  const client = await admin(
    'POST',
    '/admin/clients',
    { name: 'first-look', connections: ['*'] },
    {
      allowConflict: false,
    },
  );
  writeFileSync(apiKeyFile, `${client.apiKey}\n`, { mode: 0o600 });
  return client.apiKey;
}

async function main() {
  await waitFor(`${sandboxUrl}/_sandbox/stats`);
  await waitFor(`${brokerUrl}/health/ready`);

  await admin('POST', '/admin/integrations', {
    key: 'bloomerang-sandbox',
    provider: 'bloomerang',
    clientId: 'sandbox-bloomerang',
    clientSecret: 'sandbox-bloomerang-secret',
    scopes: ['OrgAdmin'],
    authorizationUrl: `${sandboxUrl}/bloomerang/Authorize`,
    tokenUrl: `${sandboxUrl}/bloomerang/v2/oauth/token`,
  });
  await admin('POST', '/admin/integrations', {
    key: 'bloom-sandbox',
    provider: 'bloom',
    clientId: 'sandbox-bloom',
    clientSecret: 'sandbox-bloom-secret',
    audience: 'dev-api.bloom.dev',
    scopes: ['data-access:all', 'furnishment:all'],
    tokenUrl: `${sandboxUrl}/bloom/oauth2/token`,
  });

  await admin('POST', '/admin/connections', { key: 'bloom-demo', integration: 'bloom-sandbox' });
  const created = await admin('POST', '/admin/connections', {
    key: 'bloomerang-demo',
    integration: 'bloomerang-sandbox',
  });
  const authorization =
    created.authorizationUrl !== undefined
      ? created
      : await admin('POST', '/admin/connections/bloomerang-demo/authorize', undefined, {
          allowConflict: false,
        });
  await approve(authorization.authorizationUrl);

  const apiKey = await clientApiKey();
  // The curl printed below, made here first: the summary shows only a request that works.
  const check = await tokenStatus(apiKey);
  if (check.status !== 200) {
    throw new Error(`GET /tokens/bloomerang-demo answered ${check.status}: ${check.body}`);
  }
  const connections = await admin('GET', '/admin/connections');

  console.log('\n=== token broker first look ===');
  console.log(
    `Swagger UI:   ${publicBrokerUrl.replace('127.0.0.1', 'localhost')}/docs  (Authorize with the admin token)`,
  );
  console.log(`Admin token:  ${adminToken}`);
  console.log(`Sandbox:      ${sandboxUrl}`);
  console.log(`Logs:         ${logsHint}`);
  console.log('Connections:');
  for (const c of connections) console.log(`  ${c.key.padEnd(18)} ${c.integration.padEnd(20)} ${c.status}`);
  console.log(`Client API key (saved in ${apiKeyFile}): ${apiKey}`);
  console.log('A token of the Bloomerang connection (answers 200 with the access token):');
  console.log(`  curl -s -H "Authorization: Bearer ${apiKey}" ${publicBrokerUrl}/tokens/bloomerang-demo`);
}

main().catch((error) => {
  console.error(`first look setup failed: ${error.message}`);
  process.exitCode = 1;
});
