import { Controller, Get, Header, HttpStatus } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors';
import { BrokerError } from '../common/broker-error';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { LivenessView, ReadinessView } from './health.dto';
import { ReadinessCheck } from './readiness';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly readiness: ReadinessCheck,
    private readonly metrics: BrokerMetrics,
  ) {}

  /** The process is up and its event loop answers. */
  @Get('health/live')
  live(): LivenessView {
    return { status: 'ok' };
  }

  /**
   * The replica can serve token reads: 503 until it has reached Postgres with its migrations
   * applied; then 200, naming a dependency that does not answer as `degraded`, while it can serve.
   */
  @Get('health/ready')
  @ApiOkResponse({ type: ReadinessView })
  @ApiErrors(503)
  async ready(): Promise<ReadinessView> {
    const { httpStatus, body } = await this.readiness.check();
    if (httpStatus === HttpStatus.OK) return body;
    const reasons = Object.entries(body.error).map(
      ([name, result]) => `${name}: ${result.message ?? result.status}`,
    );
    throw new BrokerError('service_unavailable', `not ready to serve token reads (${reasons.join('; ')})`);
  }

  /** Prometheus metrics. */
  @Get('metrics')
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format',
    schema: { type: 'string', example: 'broker_token_requests_total{outcome="cache_hit"} 1042\n' },
  })
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
