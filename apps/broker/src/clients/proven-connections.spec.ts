import { ProvenConnections, sameText } from './proven-connections';
import type { Caller } from './clients.service';

const caller: Caller = { clientId: 'c1', name: 'billing', allowsAll: true, connections: new Set() };

describe('ProvenConnections', () => {
  const connection = {};
  const header = 'Bearer tbk_abcdefghijkl_0123456789012345678901234567890123456789012';

  it('recalls the caller for the same header on the same connection while the proof holds', () => {
    const proven = new ProvenConnections();
    proven.remember(connection, header, caller, Date.now() + 60_000, 7);
    expect(proven.recall(connection, `${header}`, 7)).toBe(caller);
    expect(proven.recall({}, header, 7)).toBeUndefined(); // another connection proved nothing
  });

  it('recalls nothing for another header, a missing one, a later generation or a past deadline', () => {
    const proven = new ProvenConnections();
    proven.remember(connection, header, caller, Date.now() + 60_000, 7);
    expect(proven.recall(connection, `${header.slice(0, -1)}3`, 7)).toBeUndefined();
    expect(proven.recall(connection, `${header}x`, 7)).toBeUndefined();
    expect(proven.recall(connection, undefined, 7)).toBeUndefined();
    expect(proven.recall(connection, header, 8)).toBeUndefined();
    proven.remember(connection, header, caller, Date.now() - 1, 7);
    expect(proven.recall(connection, header, 7)).toBeUndefined();
  });
});

describe('sameText', () => {
  it.each([
    ['abc', 'abc', true],
    ['', '', true],
    ['abc', 'abd', false],
    ['abc', 'ab', false],
    ['ab', 'abc', false],
    ['abc', 'Abc', false],
    ['tök€n', 'tök€n', true],
    // Characters a one-byte encoding would fold together.
    ['\u0100', '\u0000', false],
    ['\u00e9', 'e\u0301', false],
  ])('%j and %j: %s', (text, expected, equal) => {
    expect(sameText(text, Buffer.from(expected, 'utf16le'))).toBe(equal);
  });

  it('compares a header longer than its scratch buffer', () => {
    const long = 'x'.repeat(40_000);
    expect(sameText(long, Buffer.from(long, 'utf16le'))).toBe(true);
    expect(sameText(long, Buffer.from(`${long.slice(1)}y`, 'utf16le'))).toBe(false);
  });
});
