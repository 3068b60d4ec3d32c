import { createPrivateKey, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * X.509 certificates made with node:crypto alone, for machines without the openssl binary: a CA
 * and certificates it signs, ECDSA P-256 with SHA-256, DER written by hand (only the few ASN.1
 * types a certificate needs). Test use only.
 */
export interface Issued {
  certPem: string;
  keyPem: string;
  key: KeyObject;
  subject: string;
}

const tlv = (tag: number, body: Buffer): Buffer => {
  const length =
    body.length < 0x80
      ? Buffer.from([body.length])
      : body.length < 0x100
        ? Buffer.from([0x81, body.length])
        : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
};
const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const integer = (bytes: Buffer) =>
  tlv(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const octets = (body: Buffer) => tlv(0x04, body);
const bits = (body: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), body]));
const explicit = (n: number, body: Buffer) => tlv(0xa0 + n, body);
function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}
const utcTime = (date: Date) =>
  tlv(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`, 'ascii'));
const name = (commonName: string) => sequence(set(sequence(oid('2.5.4.3'), utf8(commonName))));
const ECDSA_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
const extension = (id: string, critical: boolean, value: Buffer) =>
  sequence(oid(id), ...(critical ? [boolean(true)] : []), octets(value));
const pem = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END ${label}-----\n`;

/** A certificate for `subject`, signed by `issuer` (itself when absent: a self-signed CA). */
export function issue(subject: string, options: { issuer?: Issued; dnsNames?: string[] } = {}): Issued {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const isCa = !options.issuer;
  const now = Date.now();
  const extensions = [
    extension('2.5.29.19', true, sequence(...(isCa ? [boolean(true)] : []))), // basicConstraints
    extension('2.5.29.15', true, tlv(0x03, Buffer.from(isCa ? [1, 0x06] : [5, 0x80]))), // keyUsage
  ];
  if (options.dnsNames?.length) {
    const names = options.dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, 'ascii')));
    extensions.push(extension('2.5.29.17', false, sequence(...names))); // subjectAltName
    extensions.push(extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1')))); // serverAuth
  }
  const serial = randomBytes(16);
  // Positive and minimal in DER: the first byte neither has its top bit set nor is zero.
  serial[0] = (serial[0] & 0x7f) | 0x40;
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    name(options.issuer?.subject ?? subject),
    sequence(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 86_400_000))),
    name(subject),
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: options.issuer?.key ?? privateKey, dsaEncoding: 'der' });
  const certificate = sequence(tbs, ECDSA_SHA256, bits(signature));
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { certPem: pem('CERTIFICATE', certificate), keyPem, key: createPrivateKey(keyPem), subject };
}
