import { createClient, type RedisClientType } from '@keyv/redis';

/**
 * The database tests write to on the Redis that `REDIS_URL` names, whatever database the URL
 * itself names: `REDIS_URL=redis://127.0.0.1:6379 npm test` must leave the developer's own
 * database (0 there) as it found it.
 */
export const TEST_DATABASE = 15;

/** All the keys the service writes (cache entries and rate-limit counters). */
const SERVICE_KEYS = 'transform-api:*';

/** `url` with the test database in place of its own. */
export function testRedisUrl(url: string): string {
  const test = new URL(url);
  test.pathname = `/${TEST_DATABASE}`;
  return test.toString();
}

/** The service's keys written to the test database since `trackTestKeys`, and their removal. */
export interface TestKeys {
  /** Keys of the service in the test database that were not there at the start. */
  written(): Promise<string[]>;
  /** Deletes those keys, and no other. */
  delete(): Promise<void>;
  close(): void;
}

/**
 * Notes the service's keys already in the test database, so that what a test run adds, and only
 * that, can be deleted at its end: another run sharing the Redis keeps its keys.
 */
export async function trackTestKeys(url: string): Promise<TestKeys> {
  const admin = createClient({ url: testRedisUrl(url) }) as RedisClientType;
  await admin.connect();
  const before = new Set(await admin.keys(SERVICE_KEYS));
  const written = async () => (await admin.keys(SERVICE_KEYS)).filter((key) => !before.has(key));
  return {
    written,
    delete: async () => {
      const keys = await written();
      if (keys.length > 0) await admin.del(keys);
    },
    close: () => admin.destroy(),
  };
}
