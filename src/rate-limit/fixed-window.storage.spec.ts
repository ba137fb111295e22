import { jest } from '@jest/globals';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';

describe('FixedWindowThrottlerStorage (per-replica counters)', () => {
  it('counts a client within its window and blocks past the limit until the window ends', async () => {
    const storage = new FixedWindowThrottlerStorage();
    const records = [];
    for (let i = 0; i < 4; i++) records.push(await storage.increment('default:1.2.3.4', 60_000, 3));
    expect(records.map((record) => [record.totalHits, record.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
    ]);
    expect(records[3].timeToExpire).toBeGreaterThan(0);
    expect(records[3].timeToExpire).toBeLessThanOrEqual(60);
    expect(records[3].timeToBlockExpire).toBe(records[3].timeToExpire);
    expect(records[0].timeToBlockExpire).toBe(0);
  });

  it('counts each client on its own', async () => {
    const storage = new FixedWindowThrottlerStorage();
    await storage.increment('default:a', 60_000, 1);
    await storage.increment('default:a', 60_000, 1);
    await expect(storage.increment('default:b', 60_000, 1)).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('starts a new window once the old one has ended', async () => {
    jest.useFakeTimers();
    try {
      const storage = new FixedWindowThrottlerStorage();
      await storage.increment('default:a', 60_000, 1);
      jest.advanceTimersByTime(59_999);
      await expect(storage.increment('default:a', 60_000, 1)).resolves.toMatchObject({ totalHits: 2, isBlocked: true });
      jest.advanceTimersByTime(1);
      await expect(storage.increment('default:a', 60_000, 1)).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('FixedWindowThrottlerStorage bounds', () => {
  it('forgets the least recently seen clients past its bound, instead of growing', async () => {
    const storage = new FixedWindowThrottlerStorage();
    await storage.increment('default:first', 60_000, 1);
    await storage.increment('default:first', 60_000, 1);
    for (let i = 0; i < 100_000; i++) await storage.increment(`default:client-${i}`, 60_000, 1);
    await expect(storage.increment('default:first', 60_000, 1)).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
  });
});
