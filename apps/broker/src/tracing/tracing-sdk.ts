import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { TracingSettings } from './tracing-settings';
import { tracingState } from './tracing-state';

export interface RunningTracing {
  /** Exports the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

/**
 * Starts the SDK: a batch processor to the OTLP/HTTP exporter of the chosen encoding, the W3C
 * trace-context propagator, and the pg and ioredis instrumentations. Only required when tracing
 * is on, and before pg and ioredis are loaded, which the instrumentations patch as they load.
 */
export function startTracing(settings: TracingSettings): RunningTracing {
  const exporterConfig = { url: settings.tracesUrl };
  const exporter =
    settings.protocol === 'http/json'
      ? new OtlpJsonExporter(exporterConfig)
      : new OtlpProtobufExporter(exporterConfig);
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) win over the defaults. No
  // process or host detector: command lines and environments are not for a trace backend.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();

  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new PgInstrumentation({
        // Query texts are recorded; they are parameterized, and the parameter values (tokens,
        // ciphertexts, hashes) are not: enhancedDatabaseReporting stays off.
        enhancedDatabaseReporting: false,
        // Only queries made on behalf of a traced request or job, not the LISTEN loop or pool chatter.
        requireParentSpan: true,
        ignoreConnectSpans: true,
      }),
      new IORedisInstrumentation({
        requireParentSpan: true,
        // The command name only: arguments carry job payloads and, for AUTH, a password.
        dbStatementSerializer: (command) => command,
      }),
    ],
  });
  tracingState.enabled = true;
  return { shutdown: () => provider.shutdown() };
}
