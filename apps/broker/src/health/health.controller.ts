import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { RefreshQueue } from '../scheduler/refresh-queue';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { ApiErrors } from '../common/api-errors';
import { LivenessView } from './health.dto';

const CHECK_TIMEOUT_MS = 1_500;

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly postgres: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly refreshQueue: RefreshQueue,
    private readonly metrics: BrokerMetrics,
  ) {}

  /** The process is up and its event loop answers. */
  @Get('health/live')
  live(): LivenessView {
    return { status: 'ok' };
  }

  /** Postgres and Redis answer: the replica can serve and schedule. */
  @Get('health/ready')
  @ApiErrors(503)
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.postgres.pingCheck('postgres').withTimeout(CHECK_TIMEOUT_MS),
      () =>
        this.indicators
          .check('redis')
          // One cheap round trip through the queue's own connection.
          .attempt(async () => {
            await this.refreshQueue.queue.getJobSchedulersCount();
          })
          .withTimeout(CHECK_TIMEOUT_MS),
    ]);
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
