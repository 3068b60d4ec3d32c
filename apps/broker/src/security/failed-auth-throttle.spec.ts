import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';
import { FailedAuthThrottle } from './failed-auth-throttle';

class SmallThrottle extends FailedAuthThrottle {
  protected override readonly maxSources = 3;
}

const env = Object.assign(new BrokerEnvironment(), { BROKER_AUTH_FAILURE_LIMIT: 2 });

describe('FailedAuthThrottle', () => {
  let throttle: FailedAuthThrottle;
  afterEach(() => throttle.onApplicationShutdown());

  it('blocks a source past the limit for a minute, and only that source', async () => {
    throttle = new FailedAuthThrottle(env);
    const now = 1_000_000;
    for (let i = 0; i < 3; i++) await throttle.recordFailure('10.0.0.1', now);
    expect(() => throttle.assertNotBlocked('10.0.0.1', now)).toThrow(BrokerError);
    expect(() => throttle.assertNotBlocked('10.0.0.2', now)).not.toThrow();
    expect(() => throttle.assertNotBlocked('10.0.0.1', now + 60_001)).not.toThrow();
  });

  it('prunes sources whose window and block are over, without their coming back', async () => {
    throttle = new FailedAuthThrottle(env);
    const now = 1_000_000;
    for (let i = 0; i < 5; i++) await throttle.recordFailure(`10.0.0.${i}`, now);
    expect(throttle.trackedSources).toBe(5);
    throttle.prune(now + 30_000);
    expect(throttle.trackedSources).toBe(5);
    throttle.prune(now + 60_001);
    expect(throttle.trackedSources).toBe(0);
  });

  it('keeps at most its bound of sources, forgetting the oldest first', async () => {
    throttle = new SmallThrottle(env);
    const now = 1_000_000;
    for (let i = 0; i < 1_000; i++) await throttle.recordFailure(`10.1.${i >> 8}.${i & 255}`, now + i);
    expect(throttle.trackedSources).toBe(3);
  });
});
