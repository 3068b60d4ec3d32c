/**
 * deploy/monitoring, checked offline: the PrometheusRule's groups pass `promtool check rules` and
 * the unit tests of deploy/monitoring/tests pass `promtool test rules` (promtool is required: a
 * machine without it fails here, it does not skip), every alert carries its annotations, and
 * every metric the rules and the Grafana dashboard name is served by a running broker.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { BrokerProcess, startBroker } from './support/broker-process';
import { createTestDatabase } from './support/test-database';

const MONITORING = resolve(process.cwd(), 'deploy/monitoring');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const prometheusRule = parse(readFileSync(join(MONITORING, 'prometheus-rule.yaml'), 'utf8'));
const rules: Rule[] = prometheusRule.spec.groups.flatMap((group: { rules: Rule[] }) => group.rules);
const dashboard = JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8'));

function promtool(args: string[], cwd: string): string {
  try {
    return execFileSync(PROMTOOL, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error(`${PROMTOOL} is not installed (Debian/Ubuntu: apt-get install prometheus)`, {
        cause: error,
      });
    }
    throw new Error(`promtool ${args.join(' ')} failed:\n${failure.stdout ?? ''}${failure.stderr ?? ''}`, {
      cause: error,
    });
  }
}

/** PromQL words that are not metric names. */
const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'topk',
  'bottomk',
  'rate',
  'irate',
  'increase',
  'delta',
  'deriv',
  'histogram_quantile',
  'absent',
  'clamp_min',
  'clamp_max',
  'abs',
  'time',
  'by',
  'without',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'label_values',
]);

/** The metric names a PromQL expression (or a Grafana `label_values` query) selects. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ') // label values and strings
    .replace(/\[[^\]]*\]/g, ' ') // range selectors, Grafana's [$__rate_interval] included
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)/g, ')') // label_values(metric, label)
    .replace(/\$\w+/g, ' ');
  const words = bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(words.filter((word) => !PROMQL_WORDS.has(word)))];
}

function dashboardQueries(): string[] {
  const targets = (dashboard.panels as { targets?: { expr: string }[] }[]).flatMap(
    (panel) => panel.targets ?? [],
  );
  const variables = (dashboard.templating.list as { query?: { query?: string } | string }[])
    .map((variable) => (typeof variable.query === 'object' ? variable.query?.query : undefined))
    .filter((query): query is string => typeof query === 'string' && query.includes('('));
  return [...targets.map((target) => target.expr), ...variables];
}

describe('deploy/monitoring', () => {
  let workdir: string;

  beforeAll(() => {
    workdir = mkdtempSync(join(tmpdir(), 'broker-monitoring-'));
    // promtool reads plain rule files: the PrometheusRule's spec is one.
    writeFileSync(join(workdir, 'token-broker.rules.yaml'), stringify(prometheusRule.spec));
    for (const file of readdirSync(join(MONITORING, 'tests')).filter((name) => name.endsWith('.yaml'))) {
      copyFileSync(join(MONITORING, 'tests', file), join(workdir, file));
    }
  });

  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  it('is a PrometheusRule for the Prometheus Operator', () => {
    expect(prometheusRule).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'token-broker' },
    });
  });

  it('passes promtool check rules', () => {
    const output = promtool(['check', 'rules', 'token-broker.rules.yaml'], workdir);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('passes the alert unit tests of deploy/monitoring/tests with promtool test rules', () => {
    const tests = readdirSync(workdir).filter((name) => name.endsWith('.test.yaml'));
    expect(tests.length).toBeGreaterThan(0);
    const output = promtool(['test', 'rules', ...tests], workdir);
    expect(output).toContain('SUCCESS');
    // The unit tests cover at least two alerts, each firing at least once.
    const covered = new Set(
      tests.flatMap((file) =>
        parse(readFileSync(join(workdir, file), 'utf8')).tests.flatMap((test: any) =>
          (test.alert_rule_test ?? [])
            .filter((check: any) => (check.exp_alerts ?? []).length > 0)
            .map((check: any) => check.alertname),
        ),
      ),
    );
    expect(covered.size).toBeGreaterThanOrEqual(2);
  });

  it('covers what the issue asks, each alert with a severity, summary, description and runbook', () => {
    const alerts = rules.filter((rule) => rule.alert);
    for (const alert of alerts) {
      expect({ alert: alert.alert, severity: alert.labels?.severity }).toEqual({
        alert: alert.alert,
        severity: expect.stringMatching(/^(warning|critical)$/),
      });
      for (const annotation of ['summary', 'description', 'runbook']) {
        expect({
          alert: alert.alert,
          annotation,
          present: (alert.annotations?.[annotation] ?? '').length > 20,
        }).toEqual({ alert: alert.alert, annotation, present: true });
      }
    }
    const metricsUsed = alerts.map((alert) => metricNames(alert.expr).join(' ')).join(' ');
    for (const metric of [
      'broker_connections', // needing re-authorization
      'broker_refresh_attempts_total', // refresh failures by provider
      'broker_scheduler_lag_seconds_bucket', // scheduler lag
      'broker_refresh_token_soonest_expiry_seconds', // refresh-token expiry approaching
      'broker_token_requests_total', // token API 5xx
      'broker_token_request_duration_seconds_bucket', // token API latency
    ]) {
      expect(metricsUsed).toContain(metric);
    }
  });

  it('reads metric names out of PromQL, and nothing else', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, outcome) (rate(broker_token_request_duration_seconds_bucket{outcome=~"cache_hit|stored",integration=~"$integration"}[$__rate_interval]))) > 0.1',
      ),
    ).toEqual(['broker_token_request_duration_seconds_bucket']);
    expect(metricNames('max(a_total) / on (pod) group_left (x) b_seconds * 7 * 86400')).toEqual([
      'a_total',
      'b_seconds',
    ]);
    expect(metricNames('label_values(broker_connections, integration)')).toEqual(['broker_connections']);
  });

  describe('against the /metrics of a running broker', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let broker: BrokerProcess;
    let served: Set<string>;

    beforeAll(async () => {
      db = await createTestDatabase('monitoring');
      // Role api: it serves the same registry as a worker, and leaves the Redis queue alone.
      broker = await startBroker({
        DATABASE_URL: db.url,
        REDIS_URL: 'redis://127.0.0.1:6379/10',
        BROKER_ROLE: 'api',
      });
      const text = await (await fetch(`${broker.url}/metrics`)).text();
      served = new Set();
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        served.add(name);
        if (type === 'histogram' || type === 'summary') {
          for (const suffix of ['_bucket', '_sum', '_count']) served.add(`${name}${suffix}`);
        }
      }
    });

    afterAll(async () => {
      await broker?.stop();
      await db?.drop();
    });

    it('serves every metric the alert rules name', () => {
      const named = [...new Set(rules.flatMap((rule) => metricNames(rule.expr)))];
      expect(named.length).toBeGreaterThanOrEqual(6);
      expect(named.filter((name) => !served.has(name))).toEqual([]);
    });

    it('serves every metric the Grafana dashboard names', () => {
      const queries = dashboardQueries();
      expect(queries.length).toBeGreaterThanOrEqual(10);
      const named = [...new Set(queries.flatMap(metricNames))];
      expect(named.filter((name) => !served.has(name))).toEqual([]);
    });
  });

  it('is a Grafana dashboard whose panels query the Prometheus data source variable', () => {
    expect(dashboard).toMatchObject({ uid: 'token-broker', title: expect.any(String) });
    const panels = dashboard.panels.filter((panel: any) => panel.type !== 'row');
    const ids = new Set(dashboard.panels.map((panel: any) => panel.id));
    expect(ids.size).toBe(dashboard.panels.length);
    for (const panel of panels) {
      expect({ title: panel.title, datasource: panel.datasource?.uid }).toEqual({
        title: panel.title,
        datasource: '${datasource}',
      });
      expect(panel.targets.length).toBeGreaterThan(0);
    }
  });
});
