import { jest } from '@jest/globals';
import fc from 'fast-check';
import { goToUpper } from './go-to-upper.js';
import { ShoutcloudBatcher, type CallEvent, type MismatchEvent, type SendText } from './shoutcloud.batcher.js';
import { ShoutcloudBadReplyError, ShoutcloudUnavailableError } from './shoutcloud.errors.js';

interface SentCall {
  text: string;
  signal: AbortSignal;
  answer: (output: string) => void;
  fail: (error: unknown) => void;
}

interface Setup {
  maxCallsInFlight?: number;
  maxBytes?: number;
  maxQueuedBytes?: number;
}

/** A batcher over a scripted upstream whose calls the test answers by hand. */
function batcherWith({ maxCallsInFlight = 2, maxBytes = 1024, maxQueuedBytes = 4096 }: Setup = {}) {
  const calls: SentCall[] = [];
  const send = jest.fn<SendText>(
    (text, signal) => new Promise<string>((resolve, reject) => calls.push({ text, signal, answer: resolve, fail: reject })),
  );
  const batcher = new ShoutcloudBatcher({ send, maxBytes, maxCallsInFlight, maxQueuedBytes, targetCallMs: 500 });
  const mismatches: MismatchEvent[] = [];
  batcher.onMismatch((event) => mismatches.push(event));
  const events: CallEvent[] = [];
  batcher.onCall((event) => events.push(event));
  // Each call's texts as one string, separators taken out (the separated form has its own tests).
  const texts = () => calls.map((call) => textsOf(call.text).join(''));
  return { batcher, send, calls, texts, mismatches, events };
}

/** The texts of a call's question: between its separators (control character, digits, control character). */
const textsOf = (question: string) => question.split('\u001e').filter((_part, index) => index % 2 === 0);

/** Lets the microtasks run: the dispatch a free slot queued, and the callbacks of an answered call. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

const live = () => new AbortController().signal;

describe('ShoutcloudBatcher', () => {
  afterEach(() => jest.useRealTimers());

  it('sends a lone text at once, with no timer, and answers it', async () => {
    const { batcher, calls, texts, events } = batcherWith();
    const answer = batcher.shout('abc', live());
    await Promise.resolve();
    expect(texts()).toEqual(['abc']);
    expect(events).toEqual([{ texts: 1, waitedMs: [expect.any(Number)] }]);
    calls[0].answer('ABC');
    await expect(answer).resolves.toBe('ABC');
  });

  it('sends the texts asked in one synchronous stretch as one call and splits the answer by code points', async () => {
    const { batcher, calls, texts } = batcherWith();
    const asked = ['ab', '😀x', 'e\u0301', '', '漢字'];
    const answers = asked.map((text) => batcher.shout(text, live()));
    await settled();
    expect(texts()).toEqual([asked.join('')]);
    calls[0].answer(goToUpper(calls[0].text));
    await expect(Promise.all(answers)).resolves.toEqual(['AB', '😀X', 'E\u0301', '', '漢字']);
  });

  it('queues the texts asked while every slot is busy, and sends them together when one frees', async () => {
    const { batcher, calls, texts, events } = batcherWith({ maxCallsInFlight: 2 });
    const first = batcher.shout('a', live());
    await settled();
    const second = batcher.shout('b', live());
    await settled();
    expect(texts()).toEqual(['a', 'b']);
    const waiting = ['c', 'd', 'e'].map((text) => batcher.shout(text, live()));
    await settled();
    expect(texts()).toEqual(['a', 'b']);
    expect(batcher.queued).toBe(3);
    expect(batcher.callsInFlight).toBe(2);
    calls[1].answer('B');
    await settled();
    expect(texts()).toEqual(['a', 'b', 'cde']);
    expect(batcher.queued).toBe(0);
    expect(events.map((event) => event.texts)).toEqual([1, 1, 3]);
    calls[0].answer('A');
    calls[2].answer(goToUpper(calls[2].text));
    await expect(Promise.all([first, second, ...waiting])).resolves.toEqual(['A', 'B', 'C', 'D', 'E']);
  });

  it('gives every text its own answer, whatever the texts and the order the calls are answered in', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.nat(), { minLength: 30, maxLength: 30 }),
        async (asked, maxCallsInFlight, picks) => {
          // Fake timers: a freed slot may wait a few ms for texts to regroup.
          jest.useFakeTimers();
          const settled = () => jest.advanceTimersByTimeAsync(5);
          const { batcher, calls } = batcherWith({ maxCallsInFlight, maxBytes: 64 });
          const answers: Promise<string>[] = [];
          // Texts arrive one per turn, and a random call in flight is answered now and then.
          const answered = new Set<SentCall>();
          for (const [index, text] of asked.entries()) {
            answers.push(batcher.shout(text, live()));
            await settled();
            const open = calls.filter((call) => !answered.has(call));
            if (open.length > 0 && picks[index] % 2 === 0) {
              const call = open[picks[index] % open.length];
              answered.add(call);
              call.answer(goToUpper(call.text));
            }
          }
          // Answering a call sends the next: answer until none is left open.
          let done = false;
          const all = Promise.all(answers).finally(() => (done = true));
          while (!done) {
            // Long enough for any slot waiting for its callers to regroup.
            await jest.advanceTimersByTimeAsync(1000);
            for (const call of calls.filter((call) => !answered.has(call))) {
              answered.add(call);
              call.answer(goToUpper(call.text));
            }
          }
          expect(await all).toEqual(asked.map(goToUpper));
          expect(batcher.callsInFlight).toBe(0);
        },
      ),
    );
  });

  describe('when a call comes back', () => {
    beforeEach(() => jest.useFakeTimers());

    it('waits for its callers to ask again, and sends them with the texts that waited', async () => {
      const { batcher, calls, texts } = batcherWith({ maxCallsInFlight: 1 });
      const first = batcher.shout('a', live());
      await jest.advanceTimersByTimeAsync(0);
      const group = ['b', 'c', 'd'].map((text) => batcher.shout(text, live()));
      calls[0].answer('A');
      await jest.advanceTimersByTimeAsync(0);
      // 'a' came back alone: the queue of three goes at once, as one call.
      expect(texts()).toEqual(['a', 'bcd']);
      const straggler = batcher.shout('e', live());
      await jest.advanceTimersByTimeAsync(20);
      calls[1].answer(goToUpper(calls[1].text));
      await jest.advanceTimersByTimeAsync(0);
      // Three texts came back and one waits, fewer than half: the slot waits for three more.
      expect(texts()).toEqual(['a', 'bcd']);
      const again = ['f', 'g'].map((text) => batcher.shout(text, live()));
      await jest.advanceTimersByTimeAsync(0);
      expect(texts()).toEqual(['a', 'bcd']);
      again.push(batcher.shout('x', live()));
      await jest.advanceTimersByTimeAsync(0);
      expect(texts()).toEqual(['a', 'bcd', 'efgx']);
      // Four came back and three wait, at least half: a steady stream, sent at once.
      const next = ['h', 'i', 'j'].map((text) => batcher.shout(text, live()));
      calls[2].answer(goToUpper(calls[2].text));
      await jest.advanceTimersByTimeAsync(0);
      expect(texts()).toEqual(['a', 'bcd', 'efgx', 'hij']);
      calls[3].answer(goToUpper(calls[3].text));
      await expect(Promise.all([first, ...group, straggler, ...again, ...next])).resolves.toEqual('ABCDEFGXHIJ'.split(''));
    });

    it('sends what waits after the duration of the call, at most 25 ms, when they do not come back', async () => {
      const { batcher, calls, texts } = batcherWith({ maxCallsInFlight: 1 });
      const group = ['a', 'b', 'c'].map((text) => batcher.shout(text, live()));
      await jest.advanceTimersByTimeAsync(0);
      const straggler = batcher.shout('d', live());
      await jest.advanceTimersByTimeAsync(40);
      calls[0].answer(goToUpper(calls[0].text));
      await jest.advanceTimersByTimeAsync(24);
      expect(texts()).toEqual(['abc']);
      await jest.advanceTimersByTimeAsync(1);
      expect(texts()).toEqual(['abc', 'd']);
      calls[1].answer('D');
      await expect(Promise.all([...group, straggler])).resolves.toEqual(['A', 'B', 'C', 'D']);
    });
  });

  it('bounds a call in UTF-8 bytes: the queue goes over successive slots, a longer text alone', async () => {
    const { batcher, calls, texts, events } = batcherWith({ maxCallsInFlight: 1, maxBytes: 8 });
    const head = batcher.shout('head', live());
    await settled();
    // 'é' is 2 bytes: 4 + 4 fit in 8; the 10-byte text goes alone.
    const queued = ['éé', 'abcd', 'x', '0123456789', 'yz'];
    const answers = queued.map((text) => batcher.shout(text, live()));
    await settled();
    for (let i = 0; i < 5 && calls.length > i; i++) {
      calls[i].answer(goToUpper(calls[i].text));
      await settled();
    }
    expect(texts()).toEqual(['head', 'ééabcd', 'x', '0123456789', 'yz']);
    expect(events.map((event) => event.texts)).toEqual([1, 2, 1, 1, 1]);
    await expect(Promise.all([head, ...answers])).resolves.toEqual(['HEAD', ...queued.map(goToUpper)]);
  });

  it('refuses at once, with a 503 and Retry-After, a text that would take the queue past its bytes', async () => {
    const { batcher, calls, texts } = batcherWith({ maxCallsInFlight: 1, maxQueuedBytes: 10 });
    const busy = batcher.shout('busy', live());
    await settled();
    const kept = [batcher.shout('12345', live()), batcher.shout('67890', live())];
    const refused = batcher.shout('x', live());
    await expect(refused).rejects.toBeInstanceOf(ShoutcloudUnavailableError);
    await expect(refused).rejects.toMatchObject({ status: 503, retryAfterSeconds: 1 });
    expect(batcher.queued).toBe(2);
    calls[0].answer('BUSY');
    await settled();
    expect(texts()).toEqual(['busy', '1234567890']);
    calls[1].answer(calls[1].text);
    await expect(Promise.all([busy, ...kept])).resolves.toEqual(['BUSY', '12345', '67890']);
  });

  it('admits a text longer than the queue bound when nothing else waits', async () => {
    const { batcher, calls } = batcherWith({ maxCallsInFlight: 1, maxQueuedBytes: 4 });
    void batcher.shout('busy', live());
    await settled();
    const long = batcher.shout('a long text', live());
    calls[0].answer('BUSY');
    await settled();
    calls[1].answer('A LONG TEXT');
    await expect(long).resolves.toBe('A LONG TEXT');
  });

  it('drops from the next call a queued text whose caller left, and frees its bytes at once', async () => {
    const { batcher, calls, texts } = batcherWith({ maxCallsInFlight: 1, maxQueuedBytes: 8 });
    const busy = batcher.shout('busy', live());
    await settled();
    const caller = new AbortController();
    const gone = batcher.shout('gone', caller.signal);
    const reason = new Error('client gone');
    caller.abort(reason);
    await expect(gone).rejects.toBe(reason);
    expect(batcher.queued).toBe(0);
    // Its 4 bytes are free again: 8 more fit.
    const kept = batcher.shout('kept', live());
    const also = batcher.shout('also', live());
    calls[0].answer('BUSY');
    await settled();
    expect(texts()).toEqual(['busy', 'keptalso']);
    calls[1].answer(goToUpper(calls[1].text));
    await expect(Promise.all([busy, kept, also])).resolves.toEqual(['BUSY', 'KEPT', 'ALSO']);
  });

  it('sends again alone only the text whose part is not its case variant; the others keep their answers', async () => {
    const { batcher, calls, mismatches } = batcherWith({ maxCallsInFlight: 1 });
    const answers = [batcher.shout('straße', live()), batcher.shout('ok', live()), batcher.shout('fine', live())];
    await settled();
    expect(textsOf(calls[0].text)).toEqual(['straße', 'ok', 'fine']);
    // An upstream using full case mapping: 'ß' becomes 'SS', one code point more.
    calls[0].answer(calls[0].text.toUpperCase());
    await expect(answers[1]).resolves.toBe('OK');
    await expect(answers[2]).resolves.toBe('FINE');
    expect(mismatches).toEqual([{ texts: 3, rejected: 1 }]);
    expect(calls.map((call) => call.text)).toEqual([expect.any(String), 'straße']);
    calls[1].answer('STRAßE');
    await expect(answers[0]).resolves.toBe('STRAßE');
  });

  it.each<[string, (answer: string) => string]>([
    ['shifted by one code point', (answer) => answer.slice(-1) + answer.slice(0, -1)],
    ['with its texts in reverse order', (answer) => answer.split('\u001e').reverse().join('\u001e')],
    ['with its separators lost', (answer) => textsOf(answer).join('')],
    ['normalized to NFC', (answer) => answer.normalize('NFC')],
  ])('never hands a text another text\'s characters from an answer %s', async (_name, lie) => {
    const { batcher, calls } = batcherWith({ maxCallsInFlight: 1 });
    const asked = ['alpha', 'e\u0301clair', 'bravo'];
    let done = false;
    const answers = Promise.all(asked.map((text) => batcher.shout(text, live()).catch(() => 'refused'))).finally(() => (done = true));
    // Every call, the first and those that send texts again alone, gets the lie.
    for (let answered = 0; !done; await settled()) {
      while (answered < calls.length) calls[answered++].answer(lie(goToUpper(calls[answered - 1].text)));
    }
    for (const [index, answer] of (await answers).entries()) {
      expect([goToUpper(asked[index]), 'refused']).toContain(answer);
    }
  });

  it('keeps one text with an unusable answer from pushing the others of later calls out', async () => {
    const { batcher, calls } = batcherWith({ maxCallsInFlight: 1 });
    const first = batcher.shout('head', live());
    await settled();
    const answers = ['ß', 'a', 'b', 'c'].map((text) => batcher.shout(text, live()).catch(() => 'refused'));
    calls[0].answer('HEAD');
    await first;
    await settled();
    calls[1].answer(calls[1].text.toUpperCase());
    await settled();
    calls[2].answer('SS');
    expect(await Promise.all(answers)).toEqual(['refused', 'A', 'B', 'C']);
    expect(calls.map((call) => textsOf(call.text))).toEqual([['head'], ['ß', 'a', 'b', 'c'], ['ß']]);
  });

  it('draws a separator no text of the call contains', async () => {
    const { batcher, calls } = batcherWith({ maxCallsInFlight: 1 });
    const asked = ['x\u001e1\u001e', '\u001e', '\u001e\u001e2'];
    const answers = asked.map((text) => batcher.shout(text, live()));
    await settled();
    calls[0].answer(goToUpper(calls[0].text));
    await expect(Promise.all(answers)).resolves.toEqual(asked.map(goToUpper));
  });

  it.each([
    ['longer', 'straße', 'STRASSE'],
    ['shorter', 'abc', 'AB'],
    ['empty for a text', 'x', ''],
  ])('refuses a lone answer %s than its question as a bad reply', async (_case, text, reply) => {
    const { batcher, calls, mismatches } = batcherWith();
    const answer = batcher.shout(text, live());
    await settled();
    calls[0].answer(reply);
    await expect(answer).rejects.toBeInstanceOf(ShoutcloudBadReplyError);
    await expect(answer).rejects.toMatchObject({ status: 502 });
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0].texts).toBe(1);
  });

  it('gives an upstream failure to every text of the call, and frees the slot', async () => {
    const { batcher, calls, texts } = batcherWith({ maxCallsInFlight: 1 });
    const answers = [batcher.shout('a', live()), batcher.shout('b', live())];
    await settled();
    const later = batcher.shout('c', live());
    const failure = new ShoutcloudUnavailableError('down', 1);
    calls[0].fail(failure);
    for (const answer of answers) await expect(answer).rejects.toBe(failure);
    await settled();
    expect(texts()).toEqual(['ab', 'c']);
    calls[1].answer('C');
    await expect(later).resolves.toBe('C');
  });

  it('lets a caller leave a shared call without cancelling it for the others', async () => {
    const { batcher, calls } = batcherWith();
    const leaving = new AbortController();
    const gone = batcher.shout('a', leaving.signal);
    const staying = batcher.shout('b', live());
    await settled();
    const reason = new Error('client gone');
    leaving.abort(reason);
    await expect(gone).rejects.toBe(reason);
    expect(calls[0].signal.aborted).toBe(false);
    calls[0].answer(goToUpper(calls[0].text));
    await expect(staying).resolves.toBe('B');
  });

  it('cancels a call once every caller in it has left, and gives its slot to the queue', async () => {
    const send = jest.fn<SendText>(
      (text, signal) =>
        new Promise<string>((resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason as Error));
          if (text === 'next') resolve('NEXT');
        }),
    );
    const batcher = new ShoutcloudBatcher({ send, maxBytes: 1024, maxCallsInFlight: 1, maxQueuedBytes: 1024, targetCallMs: 500 });
    const callers = [new AbortController(), new AbortController()];
    const answers = callers.map((caller, index) => batcher.shout(String(index), caller.signal));
    await settled();
    const next = batcher.shout('next', live());
    callers[0].abort(new Error('first gone'));
    await expect(answers[0]).rejects.toThrow('first gone');
    const [, firstSignal] = send.mock.calls[0];
    expect(firstSignal.aborted).toBe(false);
    const last = new Error('last gone');
    callers[1].abort(last);
    expect(firstSignal.reason).toBe(last);
    await expect(answers[1]).rejects.toBe(last);
    await expect(next).resolves.toBe('NEXT');
    expect(send.mock.calls.map(([text]) => textsOf(text))).toEqual([['0', '1'], ['next']]);
  });

  it('stays bounded under a hung upstream: the queue by bytes, and by its callers leaving', async () => {
    const hung = jest.fn<SendText>(
      (_text, signal) => new Promise<string>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    );
    const batcher = new ShoutcloudBatcher({ send: hung, maxBytes: 1024, maxCallsInFlight: 2, maxQueuedBytes: 100, targetCallMs: 500 });
    const deadlines: AbortController[] = [];
    const outcomes: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      const deadline = new AbortController();
      deadlines.push(deadline);
      outcomes.push(batcher.shout(`text ${String(i).padStart(2, '0')}`, deadline.signal).catch((error: unknown) => error));
      await settled();
    }
    // Two calls hang; 100 bytes of 7-byte texts wait; the rest was refused at once.
    expect(hung).toHaveBeenCalledTimes(2);
    expect(batcher.queued).toBe(14);
    const refused = (await Promise.all(outcomes.slice(16))).filter((error) => error instanceof ShoutcloudUnavailableError);
    expect(refused).toHaveLength(34);
    // Every caller's deadline passes: the queue empties and the hung calls are cancelled.
    for (const deadline of deadlines) deadline.abort(new Error('deadline'));
    await settled();
    expect(batcher.queued).toBe(0);
    expect(batcher.callsInFlight).toBe(0);
    expect(hung).toHaveBeenCalledTimes(2);
  });

  it('with no bound on calls, sends every text alone as it is asked', async () => {
    const { batcher, calls, texts, events } = batcherWith({ maxCallsInFlight: Infinity });
    const answers = ['a', 'b', 'c'].map((text) => batcher.shout(text, live()));
    expect(texts()).toEqual(['a', 'b', 'c']);
    expect(batcher.queued).toBe(0);
    expect(events).toEqual([1, 2, 3].map(() => ({ texts: 1, waitedMs: [0] })));
    calls.forEach((call) => call.answer(call.text.toUpperCase()));
    await expect(Promise.all(answers)).resolves.toEqual(['A', 'B', 'C']);
  });

  it('refuses at once a caller that has already left', async () => {
    const { batcher, send } = batcherWith();
    const reason = new Error('already gone');
    await expect(batcher.shout('x', AbortSignal.abort(reason))).rejects.toBe(reason);
    await settled();
    expect(send).not.toHaveBeenCalled();
  });
});
