import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { buildOpenApiDocument } from './openapi.document.js';

/** Serves Swagger UI at `/docs` and the OpenAPI document at `/docs-json`, both offline. */
export function setupSwagger(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'transform-api',
    swaggerOptions: { tryItOutEnabled: false, displayRequestDuration: true },
  });
}
