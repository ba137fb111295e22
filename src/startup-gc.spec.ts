import { collectStartupGarbage } from './startup-gc.js';

/** A weak reference to an object nothing else holds (made in its own frame, so no register keeps it). */
const weaklyHeld = () => new WeakRef({ payload: new Array(1000).fill('x') });

describe('collectStartupGarbage', () => {
  it('runs a full collection: an object nothing holds is gone afterwards', async () => {
    const ref = weaklyHeld();
    expect(ref.deref()).toBeDefined();
    // Creating or reading a WeakRef keeps its target alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectStartupGarbage();
    expect(ref.deref()).toBeUndefined();
  });
});
