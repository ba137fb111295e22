import { startShoutcloudServer, type ShoutcloudServer } from './shoutcloud-server.js';

let server: ShoutcloudServer;
beforeAll(async () => (server = await startShoutcloudServer({ control: true })));
afterAll(() => server.close());
beforeEach(() => server.reset());

const shout = async (input: string, signal?: AbortSignal) => {
  const response = await fetch(`${server.url}/V1/SHOUT`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ INPUT: input }),
    signal,
  });
  return ((await response.json()) as { OUTPUT: string }).OUTPUT;
};

describe('bundled Shoutcloud-compatible server, faults for coalescing and hedging', () => {
  it('upper-cases like Go by default, and with full case mapping when asked', async () => {
    expect(await shout('straße')).toBe('STRAßE');
    server.setFaults({ caseMapping: 'full' });
    expect(await shout('straße')).toBe('STRASSE');
  });

  it('delays only every n-th request with slowEvery; a client leaving the slow one counts as cancelled', async () => {
    server.setFaults({ slowEvery: { n: 3, latencyMs: 60_000 } });
    expect(await shout('a')).toBe('A');
    expect(await shout('b')).toBe('B');
    const leaving = new AbortController();
    const slow = shout('c', leaving.signal);
    // The fourth request overtakes the slow third: only the third is delayed.
    expect(await shout('d')).toBe('D');
    leaving.abort();
    await expect(slow).rejects.toThrow();
    await waitFor(() => server.cancelled === 1);
    expect(server.requests).toBe(4);
  });

  it('switches slowEvery over the control API', async () => {
    const response = await fetch(`${server.url}/__control/faults`, {
      method: 'PUT',
      body: JSON.stringify({ slowEvery: { n: 20, latencyMs: 1000 } }),
    });
    expect(await response.json()).toEqual({ faults: [{ slowEvery: { n: 20, latencyMs: 1000 } }] });
  });
});

describe('bundled Shoutcloud-compatible server, faults for unusable replies', () => {
  const post = (input: string) =>
    fetch(`${server.url}/V1/SHOUT`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ INPUT: input }) });

  it('answers a byte that is never UTF-8 at the end of OUTPUT with invalid-utf8', async () => {
    server.setFaults({ body: 'invalid-utf8' });
    const bytes = Buffer.from(await (await post('abc')).arrayBuffer());
    expect(bytes).toEqual(Buffer.concat([Buffer.from('{"INPUT":"abc","OUTPUT":"ABC'), Buffer.from([0xff]), Buffer.from('"}')]));
  });

  it.each([1, 100_000])('appends %i Xs to OUTPUT with extraOutput', async (extra) => {
    server.setFaults({ extraOutput: extra });
    expect(await shout('ab')).toBe(`AB${'X'.repeat(extra)}`);
  });

  it.each([
    [429, '3600'],
    [503, 'Wed, 21 Oct 2015 07:28:00 GMT'],
  ])('answers %i with Retry-After: %s', async (status, retryAfter) => {
    server.setFaults({ status, retryAfter });
    const response = await post('a');
    expect(response.status).toBe(status);
    expect(response.headers.get('retry-after')).toBe(retryAfter);
  });

  it('sends no Retry-After unless asked', async () => {
    server.setFaults({ status: 429 });
    expect((await post('a')).headers.has('retry-after')).toBe(false);
  });
});

/** Polls a condition the server reaches after an event on another socket. */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
