import { writeFileSync } from 'node:fs';
import { createApp } from './app.setup.js';
import { buildOpenApiDocument, serializeOpenApiDocument } from './docs/openapi.document.js';

// `npm run openapi`: writes ./openapi.json from the decorators, without listening on a port.
// The document must not depend on who runs this, so the app gets the default environment (as the
// drift test's app does), and no module is initialised (no Redis, no upstream).
const app = await createApp({ LOG_LEVEL: 'warn' });
const target = new URL('../openapi.json', import.meta.url);
writeFileSync(target, serializeOpenApiDocument(buildOpenApiDocument(app)));
await app.close();
process.stdout.write(`wrote ${target.pathname}\n`);
