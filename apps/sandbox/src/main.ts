/** The sandbox as a process: `node dist/apps/sandbox/src/main.js`, configured through SANDBOX_* variables. */
import { readSandboxEnv, SandboxEnvError } from './env';
import { createSandbox, PROVIDER_PROFILES } from './sandbox';

async function main(): Promise<void> {
  const { port, host, options } = readSandboxEnv(process.env);
  const sandbox = createSandbox({ ...options, logger: true });
  const baseUrl = await sandbox.listen(port, host);
  sandbox.app.log.info(
    `Provider sandbox ready at ${baseUrl}: Bloomerang ${baseUrl}/bloomerang, Bloom ${baseUrl}/bloom, ` +
      `generic OAuth ${baseUrl}/generic, ${PROVIDER_PROFILES.length} catalogue profiles at ${baseUrl}/<id> ` +
      `(${PROVIDER_PROFILES.map((profile) => profile.id).join(', ')}), controls ${baseUrl}/_sandbox`,
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      sandbox.app.log.info(`${signal} received, closing the sandbox`);
      sandbox.close().catch((error: unknown) => {
        console.error('The sandbox did not close cleanly:', error);
        process.exitCode = 1;
      });
    });
  }
}

main().catch((error: unknown) => {
  console.error(
    error instanceof SandboxEnvError ? error.message : `The sandbox failed to start: ${String(error)}`,
  );
  process.exit(1);
});
