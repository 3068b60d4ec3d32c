import { ConfigModule } from '@nestjs/config';
import { DynamicModule } from '@nestjs/common';
import { BrokerEnvironment, EnvironmentError, validateEnvironment } from './environment';

export interface LoadedEnvironment {
  env: BrokerEnvironment;
  configModule: DynamicModule;
}

/**
 * Reads `.env` (when present) and the process environment through @nestjs/config and validates
 * them once. On a missing or malformed variable it prints one line naming it and exits, so the
 * process never starts half-configured.
 */
export async function loadEnvironmentOrExit(): Promise<LoadedEnvironment> {
  let env: BrokerEnvironment | undefined;
  try {
    const configModule = await ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      validate: (raw) => (env = validateEnvironment(raw)),
    });
    return { env: env!, configModule };
  } catch (error) {
    if (error instanceof EnvironmentError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
