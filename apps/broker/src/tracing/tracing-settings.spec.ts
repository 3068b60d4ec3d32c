import { readTracingSettings, TracingSettingsError } from './tracing-settings';

function problem(raw: Record<string, string>): string {
  try {
    readTracingSettings(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(TracingSettingsError);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('readTracingSettings', () => {
  it('is off without an OTLP endpoint, whatever else is set', () => {
    expect(readTracingSettings({})).toBeNull();
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_SERVICE_NAME: 'x' })).toBeNull();
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeNull();
    expect(
      readTracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_SDK_DISABLED: 'true',
      }),
    ).toBeNull();
  });

  it('defaults to http/protobuf, appends /v1/traces to the generic endpoint, names the service', () => {
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      protocol: 'http/protobuf',
      tracesUrl: 'http://collector:4318/v1/traces',
      serviceName: 'token-broker',
    });
  });

  it('uses the traces endpoint and protocol as given, and OTEL_SERVICE_NAME', () => {
    expect(
      readTracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example.com/otlp/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'broker-eu',
      }),
    ).toEqual({
      protocol: 'http/json',
      tracesUrl: 'https://collector.example.com/otlp/traces',
      serviceName: 'broker-eu',
    });
  });

  it('refuses protocols it cannot export and endpoints that are not http(s) URLs', () => {
    expect(
      problem({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }),
    ).toBe(
      'OTEL_EXPORTER_OTLP_PROTOCOL must be one of http/protobuf, http/json (got "grpc"; grpc is not supported)',
    );
    expect(
      problem({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'json' }),
    ).toMatch(/^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be one of/);
    expect(problem({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toBe(
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL',
    );
    expect(problem({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' })).toBe(
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL',
    );
  });
});
