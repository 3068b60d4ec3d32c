import { ConcurrencyLimiter } from './concurrency-limiter';

describe('ConcurrencyLimiter', () => {
  it('never runs more than the limit per key, and keys do not block each other', async () => {
    const limiter = new ConcurrencyLimiter(2);
    let peakA = 0;
    let peakB = 0;
    const task = (key: 'a' | 'b') =>
      limiter.run(key, async () => {
        if (key === 'a') peakA = Math.max(peakA, limiter.inFlight('a'));
        else peakB = Math.max(peakB, limiter.inFlight('b'));
        await new Promise((resolve) => setTimeout(resolve, 5));
        return key;
      });
    const results = await Promise.all([...Array(10)].map((_, i) => task(i % 3 === 0 ? 'b' : 'a')));
    expect(results.filter((r) => r === 'a')).toHaveLength(6);
    expect(peakA).toBe(2);
    expect(peakB).toBe(2);
    expect(limiter.inFlight('a')).toBe(0);
  });

  it('frees the slot when a task fails', async () => {
    const limiter = new ConcurrencyLimiter(1);
    await expect(limiter.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run('a', async () => 'ok')).resolves.toBe('ok');
  });
});
