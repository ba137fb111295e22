import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testAppWithUpstream } from './support/app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

// client/README.md documents `node client/example.ts <base URL>`, run from the repository root
// with nothing built: this test runs exactly that against the service and reads what it prints.
describe('client example, run as client/README.md says', () => {
  const running = testAppWithUpstream();

  it('prints the shouted text with its X-Cache, then the 400 read through the typed error', async () => {
    const before = running.upstream.requests;
    const { stdout, stderr } = await run(process.execPath, ['client/example.ts', running.app.url], { cwd: ROOT });
    expect(stdout).toBe(
      '200 X-Cache: MISS {"data":"👋 !DLRÖW ,OLLEH"}\n' +
        '400 {"statusCode":400,"error":"The request body is not valid.","details":["data must be a string"]}\n',
    );
    expect(stderr).toBe('');
    // One upstream call for the new text; the refused body never reached Shoutcloud.
    expect(running.upstream.requests - before).toBe(1);
  });

  it('a second run is answered from the cache', async () => {
    const before = running.upstream.requests;
    const { stdout } = await run(process.execPath, ['client/example.ts', running.app.url], { cwd: ROOT });
    expect(stdout.split('\n')[0]).toBe('200 X-Cache: HIT {"data":"👋 !DLRÖW ,OLLEH"}');
    expect(running.upstream.requests - before).toBe(0);
  });
});
