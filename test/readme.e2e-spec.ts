import * as crypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { BrokerEnvironment } from '../apps/broker/src/config/environment';
import { BrokerMetrics } from '../apps/broker/src/metrics/broker-metrics';
import { signWebhook } from '../apps/broker/src/events/webhook-signature';
import { BrokerProcess, startBroker } from './support/broker-process';
import { admin } from './support/http';
import { createTestDatabase } from './support/test-database';

const README = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
/** The README and the pages of docs/, where its sections move. */
const DOCUMENTATION = [
  README,
  ...readdirSync(join(process.cwd(), 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => readFileSync(join(process.cwd(), 'docs', name), 'utf8')),
].join('\n');
/** Names the documentation must give, each in backticks. */
const undocumented = (names: string[]) => names.filter((name) => !DOCUMENTATION.includes(`\`${name}\``));
/** A section of the README, from its `## ` heading to the next one. */
const section = (title: string) => README.split(/^## /m).find((part) => part.startsWith(`${title}\n`)) ?? '';

describe('the README documents what the broker reads and exports', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let broker: BrokerProcess;

  beforeAll(async () => {
    db = await createTestDatabase('readme');
    // Redis DB 0 is also first look's: the api role serves /metrics and takes no job from any queue.
    broker = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      BROKER_ROLE: 'api',
    });
  });

  afterAll(async () => {
    await broker?.stop();
    await db?.drop();
  });

  it('names every environment variable of BrokerEnvironment', () => {
    // The variables are the validated properties of the one environment class, not a copy of them.
    const variables = [
      ...new Set(
        getMetadataStorage()
          .getTargetValidationMetadatas(BrokerEnvironment, '', true, false)
          .map((metadata) => metadata.propertyName),
      ),
    ];
    expect(variables).toEqual(expect.arrayContaining(['DATABASE_URL', 'BROKER_WEBHOOK_SECRET']));
    expect(variables.length).toBeGreaterThanOrEqual(25);
    expect(undocumented(variables)).toEqual([]);
  });

  it('names every broker_* and process_* metric the running broker exports, with its labels', async () => {
    const response = await admin(broker.url).get('/metrics');
    expect(response.status).toBe(200);
    const families = [...response.text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((match) => match[1]);
    const brokerFamilies = families.filter((name) => name.startsWith('broker_'));
    const processFamilies = families.filter((name) => name.startsWith('process_'));
    expect(brokerFamilies.length).toBeGreaterThanOrEqual(6);
    expect(processFamilies.length).toBeGreaterThanOrEqual(5);
    const metrics = section('Metrics');
    expect(brokerFamilies.filter((name) => !metrics.includes(`\`${name}\``))).toEqual([]);
    expect(processFamilies.filter((name) => !metrics.includes(`\`${name}\``))).toEqual([]);
    // Each label a broker_* metric declares is named in that metric's row of the table.
    const declared = new BrokerMetrics().registry
      .getMetricsAsArray()
      .filter((metric) => metric.name.startsWith('broker_')) as unknown as {
      name: string;
      labelNames: string[];
    }[];
    expect(declared.map((metric) => metric.name).sort()).toEqual([...brokerFamilies].sort());
    for (const { name, labelNames } of declared) {
      const row = metrics.split('\n').find((line) => line.startsWith(`| \`${name}\``)) ?? '';
      expect(row).not.toBe('');
      for (const label of labelNames) expect(`${name}: ${row}`).toContain(`\`${label}\``);
    }
  });

  it("gives a webhook verification snippet that accepts the broker's signature and nothing else", () => {
    const webhooks = section('Webhooks');
    for (const name of ['BROKER_WEBHOOK_URL', 'BROKER_WEBHOOK_SECRET', 'x-broker-signature'])
      expect(webhooks).toContain(`\`${name}`);
    for (const event of ['connection.needs_reauthorization', 'connection.error', 'connection.recovered'])
      expect(webhooks).toContain(`\`${event}\``);
    const snippet = /```js\n([\s\S]*?)```/.exec(webhooks)?.[1];
    expect(snippet).toBeDefined();
    const requireCrypto = (name: string) => {
      if (name !== 'node:crypto') throw new Error(`the snippet requires ${name}`);
      return crypto;
    };
    const verify = new Function('require', `${snippet}\nreturn verifyBrokerSignature;`)(requireCrypto) as (
      secret: string,
      body: string,
      header: string,
    ) => boolean;
    const secret = 'webhook-secret-0123456789';
    const body = JSON.stringify({ id: 'e1', type: 'connection.error' });
    expect(verify(secret, body, signWebhook(secret, body))).toBe(true);
    expect(verify('another-secret-0123456789', body, signWebhook(secret, body))).toBe(false);
    expect(verify(secret, `${body} `, signWebhook(secret, body))).toBe(false);
    const old = Math.floor(Date.now() / 1000) - 3600;
    expect(verify(secret, body, signWebhook(secret, body, old))).toBe(false);
  });

  it('documents key rotation: the command, when, and what it does to running replicas', () => {
    const rotation = section('Key rotation');
    expect(rotation).toContain('npm run keys:rotate');
    expect(rotation).toMatch(/replica/);
    const { scripts } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8'));
    expect(scripts).toHaveProperty('keys:rotate');
  });
});
