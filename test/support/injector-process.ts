import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import { freePort } from './broker-process';
import { runToExit } from './child-process';
import { issue } from './self-signed';

const REPO_ROOT = process.cwd();
export const INJECTOR_MAIN = resolve(REPO_ROOT, 'dist/apps/injector/src/main.js');
/** The runtime flags of `npm run start:injector`, so tests run the injector as its pods do. */
export const INJECTOR_NODE_FLAGS = (
  JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts['start:injector']
  .trim()
  .split(/\s+/)
  .filter((part) => part.startsWith('--'));
/** The name the API server connects to: the webhook Service in deploy/k8s/overlays/injector. */
export const INJECTOR_SERVICE_DNS = 'token-broker-injector.token-broker.svc';

export interface InjectorProcess {
  port: number;
  pid: number;
  output(): string;
  stop(): Promise<number | null>;
}

const environment = (variables: Record<string, string>) => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  INJECTOR_LOG_LEVEL: 'warn',
  ...variables,
});

/** Starts the built injector and resolves once it logs that it listens (it logs that at any level). */
export async function startInjector(variables: Record<string, string>): Promise<InjectorProcess> {
  const port = variables.PORT ? Number(variables.PORT) : await freePort();
  const child = spawn(process.execPath, [...INJECTOR_NODE_FLAGS, INJECTOR_MAIN], {
    env: environment({ PORT: String(port), INJECTOR_LOG_LEVEL: 'info', ...variables }),
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`injector did not listen within 15 s:\n${output}`));
    }, 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('agent injector listening')) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`injector exited with ${code}:\n${output}`));
    });
  });
  return {
    port,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export function runInjectorToExit(variables: Record<string, string>) {
  return runToExit({
    name: 'injector',
    args: [...INJECTOR_NODE_FLAGS, INJECTOR_MAIN],
    env: environment(variables),
    cwd: REPO_ROOT,
    timeoutMs: 10_000,
  });
}

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
const hasOpenssl = () => {
  try {
    openssl('version');
    return true;
  } catch {
    return false;
  }
};
export type CertificateTool = 'openssl' | 'node';
/** openssl where installed, else node:crypto (test/support/self-signed.ts). */
export const CERTIFICATE_TOOL: CertificateTool = hasOpenssl() ? 'openssl' : 'node';
const CA_SUBJECT = 'token-broker-injector-ca';
const DNS_NAMES = ['token-broker-injector', 'token-broker-injector.token-broker', INJECTOR_SERVICE_DNS];

/**
 * A CA and a server certificate it signed for the webhook Service's DNS names, as cert-manager
 * issues them, written to `dir` (`<prefix>ca.crt`, `tls.crt`, `tls.key`).
 */
export function issueCertificate(
  dir: string,
  prefix = '',
  tool: CertificateTool = CERTIFICATE_TOOL,
): { ca: string; caKey: string; cert: string; key: string } {
  const ca = join(dir, `${prefix}ca.crt`);
  const caKey = join(dir, `${prefix}ca.key`);
  if (tool === 'openssl') {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${CA_SUBJECT}`,
      '-keyout',
      caKey,
      '-out',
      ca,
    );
  } else {
    const issued = issue(CA_SUBJECT);
    writeFileSync(ca, issued.certPem);
    writeFileSync(caKey, issued.keyPem);
  }
  return { ca, caKey, ...renewCertificate(dir, { ca, caKey }, prefix, tool) };
}

/** A new key and server certificate signed by the same CA: what a renewal writes. */
export function renewCertificate(
  dir: string,
  { ca, caKey }: { ca: string; caKey: string },
  prefix: string,
  tool: CertificateTool = CERTIFICATE_TOOL,
): { cert: string; key: string } {
  const file = (name: string) => join(dir, `${prefix}${name}`);
  if (tool === 'node') {
    const keyPem = readFileSync(caKey, 'utf8');
    const issuer = {
      certPem: readFileSync(ca, 'utf8'),
      keyPem,
      key: createPrivateKey(keyPem),
      subject: CA_SUBJECT,
    };
    const issued = issue(INJECTOR_SERVICE_DNS, { issuer, dnsNames: DNS_NAMES });
    writeFileSync(file('tls.crt'), issued.certPem);
    writeFileSync(file('tls.key'), issued.keyPem);
    return { cert: file('tls.crt'), key: file('tls.key') };
  }
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${INJECTOR_SERVICE_DNS}`,
    '-keyout',
    file('tls.key'),
    '-out',
    file('tls.csr'),
  );
  writeFileSync(
    file('ext.cnf'),
    `subjectAltName=${DNS_NAMES.map((dns) => `DNS:${dns}`).join(',')}\n` +
      'extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    file('tls.csr'),
    '-CA',
    ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    file('ext.cnf'),
    '-out',
    file('tls.crt'),
  );
  return { cert: file('tls.crt'), key: file('tls.key') };
}

export interface WebhookAnswer {
  status: number;
  body: any;
  /** SHA-256 fingerprint of the certificate the injector presented. */
  fingerprint: string;
}

/**
 * What the API server does for a webhook with `service: {name, namespace, path: /mutate}`: an
 * HTTPS POST to the Service's DNS name, the certificate checked against the configuration's
 * caBundle, `?timeout=` added, JSON both ways. Here the name resolves to 127.0.0.1.
 */
export function callWebhook(
  port: number,
  ca: string | Buffer,
  body: unknown,
  options: { path?: string; method?: string; servername?: string } = {},
): Promise<WebhookAnswer> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        servername: options.servername ?? INJECTOR_SERVICE_DNS,
        ca,
        method: options.method ?? 'POST',
        path: options.path ?? '/mutate?timeout=5s',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          done({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null, fingerprint });
        });
      },
    );
    req.on('error', fail);
    req.setTimeout(10_000, () => req.destroy(new Error('webhook call timed out')));
    req.end(options.method === 'GET' ? undefined : payload);
  });
}
