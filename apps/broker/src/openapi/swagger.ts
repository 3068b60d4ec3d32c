import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { BrokerEnvironment } from '../config/environment';
import { OidcVerifier } from '../admin-identities/oidc-verifier';

/** The security scheme of people signing in through the admin identity provider. */
export const SIGN_IN_SCHEME = 'signIn';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('OAuth token broker')
    .setDescription(
      'Calling services get fresh upstream access tokens without holding client secrets or refresh tokens. ' +
        'Admin endpoints take `Authorization: Bearer <token>` (press Authorize, scheme "admin"): the bootstrap ' +
        '`BROKER_ADMIN_TOKEN`, a named admin token (`POST /admin/tokens`), or, where sign-in is configured, ' +
        'the token of the company\'s identity provider (scheme "signIn"). Each admin operation names the ' +
        'role it needs in `x-required-role` (`viewer` < `operator` < `admin`). ' +
        'The token endpoint takes a client API key (scheme "client").',
    )
    .setVersion('1')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'BROKER_ADMIN_TOKEN or a named admin token' },
      'admin',
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a client apiKey' }, 'client')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Swagger UI at `/docs`, the document at `/docs-json`. With sign-in configured, the served
 * document gains an oauth2 authorization-code scheme (endpoints from the provider's discovery
 * metadata, fetched on the first request that finds the provider) that every admin operation
 * accepts, and Swagger UI signs in as a public client with PKCE: no secret is in the page. It
 * sends the ID token (`x-tokenName`), whose audience is the client id.
 */
export function mountSwagger(app: INestApplication, env: BrokerEnvironment): void {
  const oidc = app.get(OidcVerifier);
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: {
      // The admin token is not kept in the browser's localStorage, where any script on the origin
      // (or whoever uses the machine next) could read it: an admin pastes it once per page load.
      persistAuthorization: false,
      // No badge from validator.swagger.io: the page loads nothing from other origins (see HELMET_OPTIONS).
      validatorUrl: null,
      // Shows each operation's x-required-role.
      showExtensions: true,
      ...(env.adminSignInEnabled
        ? {
            // Register this URL with the provider as the client's redirect URI.
            oauth2RedirectUrl: adminSignInRedirectUri(env),
            initOAuth: {
              clientId: env.BROKER_ADMIN_OIDC_CLIENT_ID,
              usePkceWithAuthorizationCodeGrant: true,
              scopes: env.BROKER_ADMIN_OIDC_SCOPES.split(/\s+/).filter(Boolean),
            },
          }
        : {}),
    },
    patchDocumentOnRequest: env.adminSignInEnabled
      ? async (_request: unknown, _reply: unknown, document: OpenAPIObject) =>
          withSignIn(document, await oidc.discoveredMetadata(), env)
      : undefined,
  });
}

/** Where the provider sends the signed-in admin back to Swagger UI. */
export function adminSignInRedirectUri(env: BrokerEnvironment): string {
  return `${env.BROKER_PUBLIC_URL.replace(/\/+$/, '')}/docs/oauth2-redirect.html`;
}

function withSignIn(
  document: OpenAPIObject,
  metadata: { authorization_endpoint?: string; token_endpoint?: string } | undefined,
  env: BrokerEnvironment,
): OpenAPIObject {
  if (!metadata?.authorization_endpoint || !metadata.token_endpoint) return document;
  const patched = structuredClone(document);
  const scopes = Object.fromEntries(
    env.BROKER_ADMIN_OIDC_SCOPES.split(/\s+/)
      .filter(Boolean)
      .map((scope) => [scope, scope]),
  );
  patched.components ??= {};
  patched.components.securitySchemes = {
    ...patched.components.securitySchemes,
    [SIGN_IN_SCHEME]: {
      type: 'oauth2',
      description: `Sign in at ${env.BROKER_ADMIN_OIDC_ISSUER} (authorization code with PKCE)`,
      flows: {
        authorizationCode: {
          authorizationUrl: metadata.authorization_endpoint,
          tokenUrl: metadata.token_endpoint,
          scopes,
        },
      },
      'x-tokenName': 'id_token',
    } as never,
  };
  for (const methods of Object.values(patched.paths)) {
    for (const operation of Object.values(methods) as Array<{ security?: Array<Record<string, string[]>> }>) {
      if (operation?.security?.some((requirement) => 'admin' in requirement)) {
        operation.security.push({ [SIGN_IN_SCHEME]: [] });
      }
    }
  }
  return patched;
}
