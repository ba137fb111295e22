import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const DESCRIPTION = `
Reverses a string by user-perceived characters (extended grapheme clusters: accents stay on their
letters, emoji sequences and flags stay whole) and returns it in capitals from Shoutcloud, "caps
lock as a service", which upper-cases code point by code point (\`ß\` stays \`ß\`).

**Caching.** Answers are deterministic, so each text goes to Shoutcloud once and is then served
from cache (in-process, and Redis shared by every replica). \`X-Cache\` says where an answer came
from: \`HIT\`, \`MISS\` (Shoutcloud just now), \`STALE\` (an expired answer, served because Shoutcloud
gave none), \`FALLBACK\` (local upper-casing, when the operator enabled it) or \`BYPASS\` (\`""\`).

**Errors** are JSON \`{"statusCode", "error", "details"?}\`: 400 for a body that cannot be used,
413 too large, 415 neither JSON nor form, 429 rate-limited, 502 Shoutcloud answered nonsense, 503
Shoutcloud unreachable (honour \`Retry-After\`), 504 Shoutcloud did not answer within the request's
deadline. The old routes answer every body problem with one 400 sentence of their own.
`.trim();

/** Serves Swagger UI at `/docs` and the OpenAPI document at `/docs-json`, both offline. */
export function setupSwagger(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('transform-api')
    .setDescription(DESCRIPTION)
    .setVersion(version)
    .addTag('transform', 'Reverse text and shout it')
    .addTag('health', 'Probes for Kubernetes')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // `/v1/` is served by the `/v1` route (trailing slashes are ignored); list it as the old clients call it.
  if (document.paths['/v1']) document.paths['/v1/'] = document.paths['/v1'];
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'transform-api',
    swaggerOptions: { tryItOutEnabled: false, displayRequestDuration: true },
  });
}
