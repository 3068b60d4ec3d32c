/**
 * Whether an OpenTelemetry SDK runs in this process. Set once by `tracing-sdk.ts` before the
 * application loads; the token path reads it to skip span work altogether when tracing is off.
 * It imports nothing, so `../tracing.ts` can load it before pg and ioredis.
 */
export const tracingState = { enabled: false };
