import { CATALOGUE_IDS } from '@broker/providers';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '../common/broker-error';
import { AUDIT_ACTIONS } from '../audit/audit-log';
import { CONNECTION_STATUSES } from '../model/connection-status';

/**
 * The committed `docs/openapi.json` (kept equal to the served one by the foundation e2e drift
 * check) is a valid OpenAPI document that says what the API does: closed value sets as enums and
 * every error answer as the one `{ statusCode, error, message }` schema.
 */
type Schema = {
  $ref?: string;
  enum?: unknown[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  items?: Schema;
  example?: unknown;
};
type Operation = {
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; schema?: Schema; example?: unknown }>;
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
};

const ERROR_REF = '#/components/schemas/ErrorBody';

/**
 * `@apidevtools/swagger-parser`'s `validate`, in a child Node: it require()s an ESM-only package,
 * which Node 20.19+ does and jest's module loader on Node 20 does not.
 */
function validate(document: unknown): { valid: true } | { valid: false; message: string } {
  const script = `
    const SwaggerParser = require('@apidevtools/swagger-parser');
    let input = '';
    process.stdin.on('data', (chunk) => (input += chunk));
    process.stdin.on('end', () => SwaggerParser.validate(JSON.parse(input)).then(
      () => process.stdout.write(JSON.stringify({ valid: true })),
      (error) => process.stdout.write(JSON.stringify({ valid: false, message: error.message })),
    ));`;
  const { NODE_OPTIONS: _jestOptions, ...env } = process.env;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], {
      input: JSON.stringify(document),
      env,
      encoding: 'utf8',
    }),
  );
}

function committed(): {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
} {
  return JSON.parse(readFileSync('docs/openapi.json', 'utf8'));
}

function operations(): Array<[string, Operation]> {
  return Object.entries(committed().paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(
      ([method, operation]) => [`${method.toUpperCase()} ${path}`, operation] as [string, Operation],
    ),
  );
}

/** The enum of a property, through `allOf: [{ $ref }]` and `$ref` to a named enum. */
function enumOf(schemaName: string, property: string): unknown[] | undefined {
  const { schemas } = committed().components;
  let schema: Schema | undefined = schemas[schemaName]?.properties?.[property];
  for (let hops = 0; schema && !schema.enum && hops < 3; hops++) {
    const ref = schema.$ref ?? schema.allOf?.[0]?.$ref;
    schema = ref ? schemas[ref.replace('#/components/schemas/', '')] : undefined;
  }
  return schema?.enum;
}

describe('the committed OpenAPI document', () => {
  it('is valid OpenAPI', () => {
    expect(committed()).toMatchObject({ openapi: '3.0.0' });
    expect(validate(committed())).toEqual({ valid: true });
  });

  it('is checked by a validator that refuses a broken document', () => {
    const broken = committed();
    broken.paths['/admin/integrations'].post.responses['400'] = {
      content: { 'application/json': { schema: { $ref: '#/components/schemas/NoSuchSchema' } } },
    };
    expect(validate(broken)).toEqual({ valid: false, message: expect.stringContaining('NoSuchSchema') });
  });

  it('documents every 4xx and 5xx answer of every operation with the one error schema', () => {
    const errorBody = committed().components.schemas.ErrorBody;
    expect(Object.keys(errorBody.properties ?? {}).sort()).toEqual(['error', 'message', 'statusCode']);
    expect(enumOf('ErrorBody', 'error')).toEqual(ERROR_CODES);

    let errorAnswers = 0;
    for (const [name, operation] of operations()) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        errorAnswers += 1;
        const schema = response.content?.['application/json']?.schema;
        expect({ name, status, ref: schema?.allOf?.[0]?.$ref ?? schema?.$ref }).toEqual({
          name,
          status,
          ref: ERROR_REF,
        });
        // The narrowed codes are codes of that status.
        const codes = schema?.allOf?.[1]?.properties?.error?.enum ?? [];
        expect(codes.length).toBeGreaterThan(0);
        for (const code of codes) expect(ERROR_CODES).toContain(code);
        expect(schema?.allOf?.[1]?.properties?.statusCode?.enum).toEqual([Number(status)]);
      }
    }
    expect(errorAnswers).toBeGreaterThan(50);
  });

  it('lists the errors each route of the contract really gives', () => {
    const statuses = (name: string) =>
      Object.keys(Object.fromEntries(operations())[name].responses).filter((status) => Number(status) >= 400);
    const codes = (name: string, status: string) =>
      Object.fromEntries(operations())[name].responses[status].content!['application/json'].schema!.allOf![1]
        .properties!.error.enum;
    expect(statuses('GET /tokens/{connection}')).toEqual([
      '400',
      '401',
      '403',
      '404',
      '409',
      '429',
      '500',
      '503',
    ]);
    expect(codes('GET /tokens/{connection}', '409')).toEqual(['needs_reauthorization']);
    expect(codes('GET /tokens/{connection}', '503')).toEqual(['provider_unavailable', 'service_unavailable']);
    expect(codes('GET /oauth/callback', '400')).toEqual(['bad_request', 'invalid_state']);
    expect(statuses('DELETE /admin/integrations/{key}')).toEqual(
      expect.arrayContaining(['401', '404', '409']),
    );
    expect(codes('POST /admin/connections/{key}/refresh', '503')).toEqual([
      'provider_unavailable',
      'service_unavailable',
    ]);
    expect(statuses('GET /health/ready')).toEqual(['503']);
    // A route behind a credential documents its refusal and the throttle of failed attempts.
    for (const [name, operation] of operations()) {
      if (!operation.security?.length) continue;
      expect({ name, statuses: Object.keys(operation.responses) }).toEqual({
        name,
        statuses: expect.arrayContaining(['401', '429']),
      });
    }
    for (const [name, operation] of operations()) {
      if (name.includes(' /admin/'))
        expect({ name, has401: '401' in operation.responses }).toEqual({ name, has401: true });
    }
  });

  it('gives closed value sets as enums', () => {
    for (const schema of ['CreateIntegrationDto', 'UpdateIntegrationDto', 'IntegrationView']) {
      expect(enumOf(schema, 'environment')).toEqual(['sandbox', 'production']);
      expect(enumOf(schema, 'authVersion')).toEqual(['v2', 'v1']);
      expect(enumOf(schema, 'grantType')).toEqual(['authorization_code', 'client_credentials']);
      expect(enumOf(schema, 'tokenAuthMethod')).toEqual(['client_secret_basic', 'client_secret_post']);
    }
    expect(enumOf('CreateIntegrationDto', 'provider')).toEqual([...CATALOGUE_IDS]);
    expect(enumOf('IntegrationView', 'provider')).toEqual([...CATALOGUE_IDS]);
    expect(CATALOGUE_IDS.slice(0, 3)).toEqual(['bloomerang', 'bloom', 'oauth2']);
    expect(enumOf('ConnectionView', 'status')).toEqual([...CONNECTION_STATUSES]);
    expect(enumOf('AuditEventView', 'action')).toEqual([...AUDIT_ACTIONS]);
    expect(enumOf('AuditEventView', 'outcome')).toEqual(
      expect.arrayContaining(['ok', 'cache_hit', 'refused']),
    );

    const query = (name: string, parameter: string) =>
      Object.fromEntries(operations())[name].parameters?.find((p) => p.name === parameter)?.schema;
    const statusFilter = query('GET /admin/connections', 'status');
    expect(statusFilter?.enum ?? committed().components.schemas.ConnectionStatus.enum).toEqual([
      ...CONNECTION_STATUSES,
    ]);
    expect(query('GET /admin/audit', 'action')).toBeDefined();
  });

  it('gives realistic examples, not "string"', () => {
    const { schemas } = committed().components;
    for (const [schema, property, example] of [
      ['CreateIntegrationDto', 'key', 'bloomerang-prod'],
      ['CreateIntegrationDto', 'clientId', 's6BhdRkqt3'],
      ['IntegrationView', 'tokenUrl', 'https://api.bloomerang.co/v2/oauth/token'],
      ['ConnectionView', 'status', 'active'],
      ['TokenView', 'tokenType', 'Bearer'],
      ['AuditEventView', 'action', 'token.read'],
      ['ErrorBody', 'error', 'not_found'],
    ] as const) {
      expect({ schema, property, example: schemas[schema].properties![property].example }).toEqual({
        schema,
        property,
        example,
      });
    }
  });
});
