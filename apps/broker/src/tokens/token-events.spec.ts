import { RefreshPlanned, StatusChange, TokenEvents } from './token-events';

describe('TokenEvents', () => {
  it('hands planned refreshes and status changes to every listener, in order', () => {
    const events = new TokenEvents();
    const planned: RefreshPlanned[][] = [];
    const changes: StatusChange[] = [];
    events.onRefreshPlanned((plans) => planned.push(plans));
    events.onRefreshPlanned((plans) => planned.push(plans));
    events.onStatusChanged((change) => changes.push(change));
    const plan = { connectionId: 'c1', tokenVersion: 2, runAt: new Date(0) };
    events.refreshPlanned([plan]);
    const change = {
      connection: 'acme',
      integration: 'crm',
      from: 'error',
      to: 'active',
      lastError: null,
    } as const;
    events.statusChanged(change);
    // Tracing is off in unit tests: the plan travels without a trace context.
    expect(planned).toEqual([[plan], [plan]]);
    expect(changes).toEqual([change]);
  });

  it('announces nothing for an empty plan list', () => {
    const events = new TokenEvents();
    let calls = 0;
    events.onRefreshPlanned(() => (calls += 1));
    events.refreshPlanned([]);
    expect(calls).toBe(0);
  });
});
