import {
  checkConnectionConfig,
  ProviderConfigError,
  ResolvedProvider,
  resolveProvider,
} from '@broker/providers';
import { BrokerError } from '../common/broker-error';
import { IntegrationEntity } from '../model/integration.entity';

/**
 * The provider settings a connection of this integration gets, with the scopes it asks for
 * instead of the integration's, and its config values checked against the entry's fields; a 400
 * naming the problem when they do not fit the provider.
 */
export function connectionProvider(
  integration: IntegrationEntity,
  scopes: string[] | undefined,
  config?: Record<string, unknown> | null,
): { provider: ResolvedProvider; config: Record<string, string> | null } {
  try {
    const provider = resolveProvider({
      provider: integration.provider,
      ...integration.config,
      ...(scopes ? { scopes } : {}),
    });
    return { provider, config: checkConnectionConfig(provider, config) };
  } catch (error) {
    if (error instanceof ProviderConfigError) throw BrokerError.badRequest(error.message);
    throw error;
  }
}
