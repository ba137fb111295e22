import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full garbage collection between start-up and the first request.
 *
 * Loading ~1,500 modules and building the app adds a property to thousands of fresh `{}`
 * objects, each under a name of its own. V8 records each as a transition from the one shape all
 * empty objects share, and stops recording past about 1,500 of them: from then on, every object
 * literal that starts from that shape is built through V8's slow runtime path instead of a
 * cached transition. Node's `process.nextTick` builds one such literal on every call (six per
 * HTTP request), and under steady load no full collection comes along to clear the dead
 * transitions. One collection clears them, and a hit's `nextTick` costs what it does in a bare
 * Nest app again, for a few milliseconds of start-up (measured: docs/performance.md).
 */
export function collectStartupGarbage(): void {
  // `gc` is only reachable with --expose-gc; setting the flag at run time exposes it to a new context.
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
