/**
 * Which OpenTelemetry trace export, if any, the standard `OTEL_*` variables ask for. Read before
 * anything else is loaded (see `../tracing.ts`), so it depends on nothing but its input; the
 * exporters and the SDK read the remaining variables (`OTEL_EXPORTER_OTLP_HEADERS`,
 * `OTEL_BSP_*`, `OTEL_TRACES_SAMPLER`, `OTEL_RESOURCE_ATTRIBUTES`) themselves.
 */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface TracingSettings {
  protocol: OtlpProtocol;
  /** Where spans are POSTed, `/v1/traces` included. */
  tracesUrl: string;
  serviceName: string;
}

export const DEFAULT_SERVICE_NAME = 'token-broker';

export class TracingSettingsError extends Error {}

/** The variables the broker reads from `.env` like the environment class does, before it runs. */
export const TRACING_VARIABLE_PREFIX = 'OTEL_';

/** `null` when tracing is off: neither `OTEL_EXPORTER_OTLP_ENDPOINT` nor its traces variant is set. */
export function readTracingSettings(raw: Record<string, string | undefined>): TracingSettings | null {
  const value = (name: string) => {
    const text = raw[name]?.trim();
    return text ? text : undefined;
  };
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return null;
  const tracesEndpoint = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (!tracesEndpoint && !endpoint) return null;

  // The traces-specific variable wins, as the OpenTelemetry specification has it.
  const protocolVariable = value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = value(protocolVariable) ?? 'http/protobuf';
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new TracingSettingsError(
      `${protocolVariable} must be one of ${OTLP_PROTOCOLS.join(', ')} (got "${protocol}"; grpc is not supported)`,
    );
  }

  // A signal-specific endpoint is used as it is; the generic one gets the signal's path appended.
  const tracesUrl = tracesEndpoint ?? `${endpoint!.replace(/\/+$/, '')}/v1/traces`;
  const endpointVariable = tracesEndpoint
    ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
    : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  let parsed: URL;
  try {
    parsed = new URL(tracesUrl);
  } catch {
    throw new TracingSettingsError(`${endpointVariable} must be an http(s) URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TracingSettingsError(`${endpointVariable} must be an http(s) URL`);
  }

  return {
    protocol: protocol as OtlpProtocol,
    tracesUrl,
    serviceName: value('OTEL_SERVICE_NAME') ?? DEFAULT_SERVICE_NAME,
  };
}
