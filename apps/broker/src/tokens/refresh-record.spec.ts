import type { RefreshTokenRotation } from '@broker/providers';
import { failsAsOutcomeUnknown, previousRefreshRule, settlesRecord } from './refresh-record';
import { refreshTokenDigest } from './token-store';

const now = Date.parse('2026-01-01T12:00:00Z');
const SENT = 'refresh-token-sent';
const provider = (rotation?: RefreshTokenRotation, graceSeconds?: number) => ({
  grantType: 'authorization_code' as const,
  refreshTokenRotation: rotation,
  refreshTokenGraceSeconds: graceSeconds,
});
const record = (secondsAgo: number, token = SENT) => ({
  refreshInFlightFence: '00000000-0000-4000-8000-000000000001',
  refreshInFlightAt: new Date(now - secondsAgo * 1000),
  refreshInFlightDigest: refreshTokenDigest(token),
});
const NO_RECORD = { refreshInFlightFence: null, refreshInFlightAt: null, refreshInFlightDigest: null };

describe('previousRefreshRule: an unsettled refresh found by the next lease holder', () => {
  it('sends when there is no record', () => {
    expect(previousRefreshRule(provider('single_use'), NO_RECORD, SENT, 15, now)).toBe('send');
  });

  it.each([['none'], ['rotating'], [undefined]] as const)('retries for rotation %s', (rotation) => {
    expect(previousRefreshRule(provider(rotation), record(60), SENT, 15, now)).toBe('send');
  });

  it('does not send a single-use refresh token again whose outcome is unknown', () => {
    expect(previousRefreshRule(provider('single_use'), record(60), SENT, 15, now)).toBe('outcome_unknown');
  });

  it('retries a grace provider only while the call would end inside the grace window', () => {
    expect(previousRefreshRule(provider('grace', 600), record(60), SENT, 15, now)).toBe('send');
    expect(previousRefreshRule(provider('grace', 600), record(590), SENT, 15, now)).toBe('outcome_unknown');
    expect(previousRefreshRule(provider('grace', 1800), record(1790), SENT, 15, now)).toBe('outcome_unknown');
  });

  it('ignores a record of another refresh token (the row has moved on since)', () => {
    expect(previousRefreshRule(provider('single_use'), record(60, 'older-token'), SENT, 15, now)).toBe(
      'send',
    );
  });

  it('ignores the record for client credentials, which send no refresh token', () => {
    const cc = { ...provider('single_use'), grantType: 'client_credentials' as const };
    expect(previousRefreshRule(cc, record(60), SENT, 15, now)).toBe('send');
    expect(previousRefreshRule(cc, record(60), null, 15, now)).toBe('send');
  });
});

describe('a failed refresh', () => {
  it('is an unknown outcome to act on only for a single-use provider whose request may have been processed', () => {
    expect(failsAsOutcomeUnknown(provider('single_use'), 'unknown')).toBe(true);
    expect(failsAsOutcomeUnknown(provider('single_use'), 'not_sent')).toBe(false);
    expect(failsAsOutcomeUnknown(provider('single_use'), 'refused')).toBe(false);
    expect(failsAsOutcomeUnknown(provider('grace', 600), 'unknown')).toBe(false);
    expect(failsAsOutcomeUnknown(provider('rotating'), 'unknown')).toBe(false);
  });

  it('leaves its record for the next holder only when the rule depends on time (grace)', () => {
    expect(settlesRecord(provider('grace', 600), 'unknown')).toBe(false);
    expect(settlesRecord(provider('grace', 600), 'not_sent')).toBe(true);
    expect(settlesRecord(provider('rotating'), 'unknown')).toBe(true);
    expect(settlesRecord(provider('single_use'), 'refused')).toBe(true);
  });
});
