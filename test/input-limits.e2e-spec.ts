import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { startTestApp, type TestApp } from './support/app.js';
import { postJson } from './support/http.js';

// Each app checks the limits it was created with, however many apps share the process (and
// whichever was created last).
describe('two apps in one process with different input limits', () => {
  let upstream: ShoutcloudServer;
  let narrow: TestApp;
  let wide: TestApp;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    narrow = await startTestApp({ SHOUTCLOUD_URL: upstream.url, MAX_INPUT_LENGTH: '5', BATCH_MAX_ITEMS: '2' });
    wide = await startTestApp({ SHOUTCLOUD_URL: upstream.url, MAX_INPUT_LENGTH: '8', BATCH_MAX_ITEMS: '3' });
  });

  afterAll(async () => {
    await narrow?.close();
    await wide?.close();
    await upstream?.close();
  });

  it.each([
    ['a text of 5 code points', 200, 200, '/transform', { data: 'ab😀de' }],
    ['a text of 6 code points', 400, 200, '/transform', { data: 'abcdef' }],
    ['a text of 9 code points', 400, 400, '/transform', { data: 'abcdefghi' }],
    ['a batch of 2 items', 200, 200, '/transform/batch', { data: ['a', 'b'] }],
    ['a batch of 3 items', 400, 200, '/transform/batch', { data: ['a', 'b', 'c'] }],
    ['a batch with an item of 6 code points', 400, 200, '/transform/batch', { data: ['abcdef'] }],
  ])('%s: %i where the limits are 5 code points and 2 items, %i where they are 8 and 3', async (_name, onNarrow, onWide, path, body) => {
    const [fromNarrow, fromWide] = await Promise.all([postJson(narrow.url, path, body), postJson(wide.url, path, body)]);
    expect([fromNarrow.status, fromWide.status]).toEqual([onNarrow, onWide]);
  });

  it('names its own limit in the details', async () => {
    const [fromNarrow, fromWide] = await Promise.all([
      postJson(narrow.url, '/transform', { data: 'abcdefghi' }),
      postJson(wide.url, '/transform/batch', { data: ['a', 'b', 'c', 'd'] }),
    ]);
    expect(fromNarrow.json()).toMatchObject({ details: ['data must be at most 5 characters (Unicode code points)'] });
    expect(fromWide.json()).toMatchObject({ details: ['data must have at most 3 items'] });
  });
});
