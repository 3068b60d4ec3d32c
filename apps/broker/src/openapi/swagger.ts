import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('OAuth token broker')
    .setDescription(
      'Calling services get fresh upstream access tokens without holding client secrets or refresh tokens. ' +
        'Admin endpoints take `Authorization: Bearer $BROKER_ADMIN_TOKEN` (press Authorize, scheme "admin"); ' +
        'the token endpoint takes a client API key (scheme "client").',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'BROKER_ADMIN_TOKEN' }, 'admin')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a client apiKey' }, 'client')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at `/docs`, the document at `/docs-json`. */
export function mountSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: {
      // The admin token is not kept in the browser's localStorage, where any script on the origin
      // (or whoever uses the machine next) could read it: an admin pastes it once per page load.
      persistAuthorization: false,
      // No badge from validator.swagger.io: the page loads nothing from other origins (see HELMET_OPTIONS).
      validatorUrl: null,
    },
  });
}
