import { timingSafeEqual } from 'node:crypto';
import type { Caller } from './clients.service';

interface Proof {
  /** The header, UTF-16 code units as bytes: every string has one exact form there. */
  authorization: Buffer;
  caller: Caller;
  validUntilMs: number;
  generation: number;
}

/**
 * What each keep-alive connection last proved: the `Authorization` header it sent, the caller that
 * header identified, and until when that holds. A connection that sends the very same header again
 * is recognised by comparing the header alone: no parsing, no key hash, no cache lookup, which was
 * most of what recognising a caller cost per token read (callers and agents keep their connections
 * open). A proof lasts no longer than what it was drawn from (the client's cache entry, the
 * ServiceAccount token's expiry) and ends as soon as any client is evicted (`generation`). One
 * proof per connection, collected with it.
 */
export class ProvenConnections {
  private readonly proofs = new WeakMap<object, Proof>();

  /** The caller this connection proved with exactly this header, while the proof holds. */
  recall(connection: object, authorization: string | undefined, generation: number): Caller | undefined {
    const proof = this.proofs.get(connection);
    if (
      proof === undefined ||
      authorization === undefined ||
      proof.generation !== generation ||
      Date.now() > proof.validUntilMs ||
      !sameText(authorization, proof.authorization)
    ) {
      return undefined;
    }
    return proof.caller;
  }

  remember(
    connection: object,
    authorization: string,
    caller: Caller,
    validUntilMs: number,
    generation: number,
  ): void {
    this.proofs.set(connection, {
      authorization: Buffer.from(authorization, 'utf16le'),
      caller,
      validUntilMs,
      generation,
    });
  }
}

/** Reused by every comparison (a header is at most 16 KiB): the token path allocates nothing for it. */
const scratch = Buffer.allocUnsafe(32 * 1024);

/**
 * Whether `text` is the text `expected` holds (UTF-16LE), in a time that depends on their length
 * only: behind a proxy one connection may carry several callers' requests, and none may learn
 * another's key by timing. (A loop over the characters in JavaScript costs several times more.)
 */
export function sameText(text: string, expected: Buffer): boolean {
  if (text.length * 2 !== expected.length) return false;
  const into = expected.length <= scratch.length ? scratch : Buffer.allocUnsafe(expected.length);
  const written = into.write(text, 0, 'utf16le');
  return timingSafeEqual(into.subarray(0, written), expected);
}
