import { BatchSize } from './shoutcloud.batch-size.js';

describe('BatchSize', () => {
  it('starts at the configured most', () => {
    expect(new BatchSize(65_536, 500).bytes).toBe(65_536);
  });

  it('shrinks after a slow call to what would have taken the target at its pace', () => {
    const size = new BatchSize(65_536, 500);
    size.answered(60_000, 1200);
    expect(size.bytes).toBe(25_000);
  });

  it('quarters after a call that timed out, never below 1 KiB', () => {
    const size = new BatchSize(65_536, 500);
    size.timedOut(60_000);
    expect(size.bytes).toBe(15_000);
    size.timedOut(2000);
    expect(size.bytes).toBe(1024);
  });

  it('grows back, doubling, after fast calls that filled it, up to the most', () => {
    const size = new BatchSize(65_536, 500);
    size.timedOut(16_384);
    const seen = [];
    for (let i = 0; i < 5; i++) {
      size.answered(size.bytes, 100);
      seen.push(size.bytes);
    }
    expect(seen).toEqual([8192, 16_384, 32_768, 65_536, 65_536]);
  });

  it('does not grow after fast calls far below the bound, nor after calls near the target', () => {
    const size = new BatchSize(65_536, 500);
    size.answered(60_000, 1000);
    size.answered(100, 10);
    size.answered(30_000, 400);
    expect(size.bytes).toBe(30_000);
  });
});
