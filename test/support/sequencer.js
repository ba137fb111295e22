import Sequencer from '@jest/test-sequencer';

/** The specs that take longest, by far: each drives processes under load for tens of seconds. */
const LONGEST = ['bench-smoke.e2e-spec.ts', 'dev-env.e2e-spec.ts', 'redis-hung.e2e-spec.ts'];
const rank = (path) => {
  const index = LONGEST.findIndex((name) => path.endsWith(`/${name}`));
  return index === -1 ? LONGEST.length : index;
};

/**
 * Jest's order (the previous run's slowest first), except that specs jest has no duration for
 * (a fresh clone) start with the longest: by file size, jest would start them last.
 */
export default class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const unknown = sorted.filter((test) => test.duration == null);
    const known = sorted.filter((test) => test.duration != null);
    const unknownSorted = unknown.map((test, order) => ({ test, order })).sort((a, b) => rank(a.test.path) - rank(b.test.path) || a.order - b.order);
    return [...unknownSorted.map(({ test }) => test), ...known];
  }
}
