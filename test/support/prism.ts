import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort } from './app-process.js';

const PRISM = fileURLToPath(new URL('../../node_modules/.bin/prism', import.meta.url));

/** Stoplight Prism as a validating proxy: every answer it passes on is checked against a document. */
export interface PrismProxy {
  readonly url: string;
  /** Everything Prism wrote so far (its own log: each request and violation). */
  output(): string;
  close(): Promise<void>;
}

/**
 * One problem Prism found with an exchange, as it reports it in the `sl-violations` header:
 * `location` starts with `request` or `response`.
 */
export interface PrismViolation {
  location: string[];
  message: string;
  severity: string;
}

/** The violations Prism reported on an answer (none: no header). */
export function violationsOf(headers: Headers): PrismViolation[] {
  const header = headers.get('sl-violations');
  return header ? (JSON.parse(header) as PrismViolation[]) : [];
}

/**
 * Starts `prism proxy <document> <upstream>` from node_modules/.bin, with this process's Node, as a
 * child process on a free loopback port, and resolves once it listens. Without `--errors` Prism forwards every request,
 * invalid ones included, and reports what it found in `sl-violations` instead of answering itself.
 */
export async function startPrismProxy(document: string, upstream: string): Promise<PrismProxy> {
  const port = await freePort();
  const child = spawn(process.execPath, [PRISM, 'proxy', document, upstream, '--host', '127.0.0.1', '--port', String(port), '--cors=false'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit');
  const listening = new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Prism is listening')) resolve();
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    void exited.then(([code]) => reject(new Error(`prism exited with ${code} before it listened:\n${output}`)));
  });
  await listening;
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
