import { writeFileSync } from 'node:fs';
import { Environment } from '../config/environment.js';

// `npm run openapi`: writes ./openapi.json from the decorators, without listening on a port.
// The document must not depend on who runs this, so the service's variables are reset to their
// defaults (as the drift test's service runs), and no module is initialised (no Redis, no upstream).
for (const key of Object.keys(new Environment())) delete process.env[key];
process.env.LOG_LEVEL = 'warn';

const { createApp } = await import('../app.setup.js');
const { buildOpenApiDocument, serializeOpenApiDocument } = await import('./openapi.document.js');

const app = await createApp();
const target = new URL('../../openapi.json', import.meta.url);
writeFileSync(target, serializeOpenApiDocument(buildOpenApiDocument(app)));
await app.close();
process.stdout.write(`wrote ${target.pathname}\n`);
