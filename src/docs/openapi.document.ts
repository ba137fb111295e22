import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
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

/**
 * The OpenAPI document of the app, built from its decorators. One function for what the service
 * serves at `/docs-json` and for the committed `openapi.json`, so the two cannot disagree.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('transform-api')
    .setDescription(DESCRIPTION)
    .setVersion(version)
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    // Relative: the document describes the service that serves it, wherever that runs.
    .addServer('/', 'The service that serves this document')
    .addTag('transform', 'Reverse text and shout it')
    .addTag('health', 'Probes for Kubernetes')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // The API has no authentication: an empty list says so, where no list would leave it unsaid.
  document.security = [];
  return document;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/**
 * `openapi.json` as committed: keys sorted at every level (array order is meaning, so kept),
 * two-space indent, trailing newline. The same text for the same document, whatever order Nest
 * discovered the routes in.
 */
export function serializeOpenApiDocument(document: unknown): string {
  return `${JSON.stringify(sortKeys(document), null, 2)}\n`;
}
