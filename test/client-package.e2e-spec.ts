import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testAppWithUpstream } from './support/app.js';

// client/ as a project that depends on it meets it: packed with `npm pack` (its prepack builds
// dist/), installed from the tarball into a new project, and the "Use it" block of
// client/README.md type-checked there against the installed types and run against the service.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const readJson = <T>(file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as T;

/** The first ```<language> block after `heading` in client/README.md. */
function readmeBlock(heading: string, language: string): string {
  const readme = readFileSync(join(ROOT, 'client/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  const block = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section);
  if (!block) throw new Error(`client/README.md has no \`\`\`${language} block under ${heading}`);
  return block[1];
}

describe('client/package.json', () => {
  it("is the API's version, an ES module with its types", () => {
    const client = readJson<{ name: string; version: string; type: string; exports: Record<string, Record<string, string>> }>('client/package.json');
    expect(client.version).toBe(readJson<{ version: string }>('package.json').version);
    expect(client.version).toBe(readJson<{ info: { version: string } }>('openapi.json').info.version);
    expect(client).toMatchObject({ name: 'transform-api-client', type: 'module', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } });
  });

  it('depends on the openapi-fetch range that this repository builds and tests it with', () => {
    const client = readJson<{ dependencies: Record<string, string> }>('client/package.json');
    const root = readJson<{ devDependencies: Record<string, string> }>('package.json');
    expect(client.dependencies).toEqual({ 'openapi-fetch': root.devDependencies['openapi-fetch'] });
  });
});

describe('transform-api-client, packed and installed from its tarball', () => {
  const running = testAppWithUpstream();
  let dir: string;
  let project: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'transform-api-client-package-'));
    project = join(dir, 'project');
    const { stdout } = await run('npm', ['pack', './client', '--pack-destination', dir, '--json'], { cwd: ROOT });
    const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-transform-api-client', private: true, type: 'module' }));
    // From the tarball, and its dependency from npm's cache (`npm ci` filled it): no network
    // unless the cache lacks it, and then only the npm registry.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, filename)], { cwd: project });
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Type-checks one module of the project as a strict TypeScript project of its own would. */
  async function typecheck(file: string) {
    const config = `tsconfig.${file}.json`;
    writeFileSync(
      join(project, config),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [], strict: true, noEmit: true, skipLibCheck: true },
        files: [file],
      }),
    );
    return run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: project });
  }

  it("type-checks the README's example against the installed types, and runs it as the README says", async () => {
    const example = readmeBlock('## Use it', 'ts').replace('http://localhost:3000', running.app.url);
    writeFileSync(join(project, 'example.ts'), example);
    await typecheck('example.ts');

    const before = running.upstream.requests;
    const { stdout, stderr } = await run(process.execPath, ['example.ts'], { cwd: project });
    expect(stdout).toBe(readmeBlock('On a fresh service it prints (a second run says `HIT`):', ''));
    expect(stderr).toBe('');
    expect(running.upstream.requests - before).toBe(1);
  });

  it('fails the type-check of a call the document does not allow', async () => {
    writeFileSync(join(project, 'wrong.ts'), "import { createTransformApiClient } from 'transform-api-client';\nawait createTransformApiClient('http://x').POST('/transform', { body: { text: 'Hello' } });\n");
    await expect(typecheck('wrong.ts')).rejects.toMatchObject({
      stdout: expect.stringContaining("'text' does not exist"),
    });
  });
});
