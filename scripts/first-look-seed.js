// Creates one integration and connection per sandbox provider through the admin API, completes the
// Bloomerang authorization against the sandbox, creates a client, and prints what to try next.
const [brokerUrl, sandboxUrl, logDir] = process.argv.slice(2);
const adminToken = process.env.BROKER_ADMIN_TOKEN;

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`${url} did not answer`);
}

async function admin(method, path, body) {
  const response = await fetch(`${brokerUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (response.status >= 400 && response.status !== 409) {
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  }
  return json;
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
  if (created.authorizationUrl) {
    // Play the account's user: approve on the sandbox, then follow its redirect to the broker's callback.
    const approve = await fetch(`${created.authorizationUrl}&sandbox_decision=approve`, {
      redirect: 'manual',
    });
    const callback = approve.headers.get('location');
    if (callback) await fetch(callback.replace('http://localhost:3000', brokerUrl), { redirect: 'manual' });
  }

  const client = await admin('POST', '/admin/clients', { name: 'first-look', connections: ['*'] });
  const connections = await admin('GET', '/admin/connections');

  console.log('\n=== token broker first look ===');
  console.log(
    `Swagger UI:   ${brokerUrl.replace('127.0.0.1', 'localhost')}/docs  (Authorize with the admin token)`,
  );
  console.log(`Admin token:  ${adminToken}`);
  console.log(`Sandbox:      ${sandboxUrl}`);
  console.log(`Logs:         ${logDir}/broker.log and ${logDir}/sandbox.log (tail -f to follow)`);
  console.log('Connections:');
  for (const c of connections) console.log(`  ${c.key.padEnd(18)} ${c.integration.padEnd(20)} ${c.status}`);
  if (client.apiKey) {
    console.log(`Client API key (shown once): ${client.apiKey}`);
    console.log(
      `Try:  curl -s -H "Authorization: Bearer ${client.apiKey}" ${brokerUrl}/tokens/bloomerang-demo`,
    );
  }
  console.log('Ctrl-C stops the broker and the sandbox.\n');
}

main().catch((error) => {
  console.error(`first look setup failed: ${error.message}`);
  process.exitCode = 1;
});
