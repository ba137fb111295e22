import { startShoutcloudServer, type ShoutcloudFault, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { goToUpper } from '../src/shoutcloud/go-to-upper.js';
import { reverseGraphemes } from '../src/transform/reverse-graphemes.js';
import { startTestApp, type TestApp } from './support/app.js';
import { postJson, type RawResponse } from './support/http.js';

// An upstream that lies about a shared call: each client gets its own text's capitals or an
// error, never a character of another client's text, and no lie is cached.

const unique = (label: string) => `${label} ${Math.random().toString(36).slice(2)}`;
const expected = (text: string) => goToUpper(reverseGraphemes(text));

let upstream: ShoutcloudServer;
let app: TestApp;

beforeAll(async () => {
  upstream = await startShoutcloudServer();
  app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, SHOUTCLOUD_HEDGE: 'off' });
});
afterAll(async () => {
  await app?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

/** Sends `texts` while the one upstream slot is busy, so that they travel in one call. */
async function askTogether(texts: string[], fault: ShoutcloudFault): Promise<RawResponse[]> {
  upstream.setFaults({ ...fault, latencyMs: 200 });
  const busy = postJson(app.url, '/transform', { data: unique('busy') });
  while (upstream.requests < 1) await new Promise((resolve) => setImmediate(resolve));
  const answers = await Promise.all(texts.map((data) => postJson(app.url, '/transform', { data })));
  await busy;
  return answers;
}

/** Each answer is the text's own capitals or a 502: the texts whose answers are refused. */
function refusedOf(texts: string[], answers: RawResponse[]): string[] {
  const wrong = answers.filter((answer, i) => answer.status === 200 && answer.json().data !== expected(texts[i]));
  const right = answers.filter((answer, i) => answer.status === 200 && answer.json().data === expected(texts[i]));
  process.stdout.write(`lying upstream: ${right.length} right, ${wrong.length} wrong, ${answers.length - right.length - wrong.length} refused\n`);
  expect(wrong.map((answer) => answer.text)).toEqual([]);
  expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 502)).toEqual([]);
  return texts.filter((_text, i) => answers[i].status === 502);
}

/** Once the upstream tells the truth again, every text's answer is right: nothing wrong was kept. */
async function expectNothingWrongCached(texts: string[]): Promise<void> {
  upstream.setFaults();
  for (const data of texts) expect((await postJson(app.url, '/transform', { data })).json()).toEqual({ data: expected(data) });
}

it.each<[string, ShoutcloudFault]>([
  ['rotates its answer by one code point', { lie: 'rotate' }],
  ['normalizes its answer to NFC', { lie: 'nfc' }],
  ['upper-cases with the full case mapping', { caseMapping: 'full' }],
])('an upstream that %s hands no client another client\'s text', async (_name, fault) => {
  const texts = Array.from({ length: 40 }, (_, i) => unique(i % 10 === 0 ? `e\u0301 straße ${i}` : `plain ${i}`));
  const refused = refusedOf(texts, await askTogether(texts, fault));
  // Only the texts the lie changes are refused: their neighbours in the call keep their answers.
  // A rotation moves one code point across the first and the last text's separators.
  if (fault.lie === 'rotate') expect(refused).toEqual([texts[0], texts[texts.length - 1]]);
  else expect(refused).toEqual(texts.filter((_text, i) => i % 10 === 0));
  await expectNothingWrongCached(texts);
});

it('one text the upstream cannot answer does not push the others out of the shared call', async () => {
  const texts = [unique('straße'), ...Array.from({ length: 29 }, (_, i) => unique(`victim ${i}`))];
  const refused = refusedOf(texts, await askTogether(texts, { caseMapping: 'full' }));
  expect(refused).toEqual([texts[0]]);
  // busy, the shared call, the sharp text alone.
  expect(upstream.requests).toBe(3);
});
