import { BatchSize } from './shoutcloud.batch-size.js';

describe('BatchSize', () => {
  it('starts at a quarter of the most', () => {
    expect(new BatchSize(65_536, 500).bytes).toBe(16_384);
  });

  it('shrinks after a slow call to what would have taken the target at its pace', () => {
    const size = new BatchSize(65_536, 500);
    size.answered(16_000, 1000);
    expect(size.bytes).toBe(8000);
  });

  it('quarters after a call that timed out, never below 1 KiB', () => {
    const size = new BatchSize(65_536, 500);
    size.timedOut(16_000);
    expect(size.bytes).toBe(4000);
    size.timedOut(2000);
    expect(size.bytes).toBe(1024);
  });

  it('grows back, doubling, after fast calls that filled at least half of it, up to the most', () => {
    const size = new BatchSize(65_536, 500);
    size.timedOut(16_384);
    const seen = [];
    for (let i = 0; i < 6; i++) {
      size.answered(size.bytes / 2, 100);
      seen.push(size.bytes);
    }
    expect(seen).toEqual([8192, 16_384, 32_768, 65_536, 65_536, 65_536]);
  });

  it('does not grow after fast calls far below the bound, nor after calls near the target', () => {
    const size = new BatchSize(65_536, 500);
    size.answered(100, 10);
    size.answered(16_000, 400);
    expect(size.bytes).toBe(16_384);
  });

  it('keeps an upstream whose time grows with size under the target once it has seen one slow call', () => {
    // 5 ms + 20 µs per byte: calls grow until one passes the target, then settle below it.
    const size = new BatchSize(65_536, 500);
    const took: number[] = [];
    for (let call = 0; call < 10; call++) {
      const ms = 5 + 0.02 * size.bytes;
      took.push(ms);
      size.answered(size.bytes, ms);
    }
    expect(Math.max(...took)).toBeLessThan(1000);
    expect(took.slice(-5).every((ms) => ms <= 500)).toBe(true);
  });
});
