import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testAppWithUpstream } from './support/app.js';

const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const run = promisify(execFile);

/**
 * The README's "Try it" section as (commands, what they print) pairs, in order: each ```sh block
 * and the plain block after it. A block introduced as abbreviated shows a subset of the lines.
 */
function tryItExamples(): Array<{ commands: string; expected: string; abbreviated: boolean }> {
  const start = README.indexOf('\n## Try it\n');
  const section = README.slice(start, README.indexOf('\n## ', start + 1));
  const examples = [];
  let commands: string | undefined;
  for (const [, prose, lang, body] of section.matchAll(/([\s\S]*?)```(\w*)\n([\s\S]*?)```/g)) {
    if (lang === 'sh') commands = body;
    else if (commands !== undefined) {
      examples.push({ commands, expected: body, abbreviated: /abbreviated/.test(prose) });
      commands = undefined;
    }
  }
  return examples;
}

const examples = tryItExamples();

// The README promises that each example prints exactly what is shown, on a fresh service, in
// order: run them as written (curl in bash), with the service's addresses for localhost:3000 and
// localhost:9464 (the metrics port).
describe('README: Try it', () => {
  const running = testAppWithUpstream();

  it('has its examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it.each(examples.map((example) => [example.commands.split('\n')[0], example] as const))('%s', async (_first, { commands, expected, abbreviated }) => {
    const script = commands
      .replaceAll('localhost:3000', running.app.url.replace('http://', ''))
      .replaceAll('localhost:9464', running.app.metricsUrl.replace('http://', ''));
    const { stdout } = await run('bash', ['-c', script]);
    const printed = stdout.replaceAll('\r\n', '\n');
    if (!abbreviated) {
      expect(printed).toBe(expected);
      return;
    }
    // Abbreviated: every shown line appears, in the order shown.
    const lines = printed.split('\n');
    let at = 0;
    for (const line of expected.replace(/\n$/, '').split('\n')) {
      const found = lines.indexOf(line, at);
      expect({ line, found: found >= 0 }).toEqual({ line, found: true });
      at = found + 1;
    }
  });
});
