import Sequencer from '@jest/test-sequencer';

/** The specs that take longest, by far: each drives processes under load for tens of seconds. */
const LONGEST = ['bench-smoke.e2e-spec.ts', 'dev-env.e2e-spec.ts', 'redis-hung.e2e-spec.ts'];
/**
 * Specs that load the whole machine for a while (floods of connections and bodies): started
 * last, so that they do not run beside the failover tests, whose bounds are in seconds.
 */
const LAST = ['admission.e2e-spec.ts'];
const named = (names, path) => names.findIndex((name) => path.endsWith(`/${name}`));
const rank = (path) => {
  const index = named(LONGEST, path);
  return index === -1 ? LONGEST.length : index;
};

/**
 * Jest's order (the previous run's slowest first), except that specs jest has no duration for
 * (a fresh clone) start with the longest: by file size, jest would start them last. The `LAST`
 * specs go at the end either way.
 */
export default class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const last = sorted.filter((test) => named(LAST, test.path) !== -1);
    const rest = sorted.filter((test) => named(LAST, test.path) === -1);
    const unknown = rest.filter((test) => test.duration == null);
    const known = rest.filter((test) => test.duration != null);
    const unknownSorted = unknown.map((test, order) => ({ test, order })).sort((a, b) => rank(a.test.path) - rank(b.test.path) || a.order - b.order);
    return [...unknownSorted.map(({ test }) => test), ...known, ...last];
  }
}
