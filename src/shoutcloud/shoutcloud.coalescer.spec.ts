import { jest } from '@jest/globals';
import fc from 'fast-check';
import { goToUpper } from './go-to-upper.js';
import { ShoutcloudCoalescer, type MismatchEvent, type SendText } from './shoutcloud.coalescer.js';

interface SentCall {
  text: string;
  signal: AbortSignal;
  answer: (output: string) => void;
  fail: (error: unknown) => void;
}

/** A coalescer over a scripted upstream whose calls the test answers by hand. */
function coalescerWith(maxBytes = 1024) {
  const calls: SentCall[] = [];
  const send = jest.fn<SendText>(
    (text, signal) =>
      new Promise<string>((resolve, reject) => calls.push({ text, signal, answer: resolve, fail: reject })),
  );
  const coalescer = new ShoutcloudCoalescer({ send, maxBytes });
  const mismatches: MismatchEvent[] = [];
  coalescer.onMismatch((event) => mismatches.push(event));
  const sizes: number[] = [];
  coalescer.onCall(({ texts }) => sizes.push(texts));
  return { coalescer, send, calls, mismatches, sizes };
}

/** Runs the flush the coalescer scheduled with setImmediate. */
const flush = () => jest.advanceTimersByTimeAsync(0);

const live = () => new AbortController().signal;

describe('ShoutcloudCoalescer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends a lone text as it is, on the next turn of the event loop', async () => {
    const { coalescer, send, calls } = coalescerWith();
    const answer = coalescer.shout('abc', live());
    expect(send).not.toHaveBeenCalled();
    await flush();
    expect(calls.map((call) => call.text)).toEqual(['abc']);
    calls[0].answer('ABC');
    await expect(answer).resolves.toBe('ABC');
  });

  it('sends texts asked in the same turn as one call and splits the answer by code points', async () => {
    const { coalescer, calls } = coalescerWith();
    const texts = ['ab', '😀x', 'e\u0301', '', '漢字'];
    const answers = texts.map((text) => coalescer.shout(text, live()));
    await flush();
    expect(calls.map((call) => call.text)).toEqual([texts.join('')]);
    calls[0].answer(goToUpper(calls[0].text));
    await expect(Promise.all(answers)).resolves.toEqual(['AB', '😀X', 'E\u0301', '', '漢字']);
  });

  it('gives every text its own answer, whatever the texts (Go-style upstream)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }), { minLength: 1, maxLength: 30 }), async (texts) => {
        const { coalescer, calls } = coalescerWith(64);
        const answers = Promise.all(texts.map((text) => coalescer.shout(text, live())));
        await flush();
        for (const call of calls) call.answer(goToUpper(call.text));
        expect(await answers).toEqual(texts.map(goToUpper));
      }),
    );
  });

  it('keeps texts asked in different turns in different calls', async () => {
    const { coalescer, calls } = coalescerWith();
    const first = coalescer.shout('a', live());
    await flush();
    const second = coalescer.shout('b', live());
    await flush();
    expect(calls.map((call) => call.text)).toEqual(['a', 'b']);
    calls.forEach((call) => call.answer(call.text.toUpperCase()));
    await expect(Promise.all([first, second])).resolves.toEqual(['A', 'B']);
  });

  it('bounds a call in UTF-8 bytes and sends a longer text alone', async () => {
    const { coalescer, calls, sizes } = coalescerWith(8);
    // 'é' is 2 bytes: 4 + 4 fit in 8; the 10-byte text goes alone.
    const texts = ['éé', 'abcd', 'x', '0123456789', 'yz'];
    const answers = texts.map((text) => coalescer.shout(text, live()));
    await flush();
    expect(calls.map((call) => call.text)).toEqual(['ééabcd', 'x', '0123456789', 'yz']);
    expect(sizes).toEqual([2, 1, 1, 1]);
    for (const call of calls) call.answer(goToUpper(call.text));
    await expect(Promise.all(answers)).resolves.toEqual(texts.map(goToUpper));
  });

  it('sends each text alone when the answer does not split back, and says so', async () => {
    const { coalescer, calls, mismatches } = coalescerWith();
    const answers = [coalescer.shout('straße', live()), coalescer.shout('ok', live())];
    await flush();
    // An upstream using full case mapping: 'ß' becomes 'SS', one code point more.
    calls[0].answer(calls[0].text.toUpperCase());
    await jest.advanceTimersByTimeAsync(0);
    expect(mismatches).toEqual([{ texts: 2, expectedCodePoints: 8, receivedCodePoints: 9 }]);
    expect(calls.slice(1).map((call) => call.text)).toEqual(['straße', 'ok']);
    calls[1].answer('STRASSE');
    calls[2].answer('OK');
    await expect(Promise.all(answers)).resolves.toEqual(['STRASSE', 'OK']);
  });

  it('gives an upstream failure to every text of the call', async () => {
    const { coalescer, calls } = coalescerWith();
    const answers = [coalescer.shout('a', live()), coalescer.shout('b', live())];
    await flush();
    const failure = new Error('upstream down');
    calls[0].fail(failure);
    for (const answer of answers) await expect(answer).rejects.toBe(failure);
  });

  it('lets a caller leave a shared call without cancelling it for the others', async () => {
    const { coalescer, calls } = coalescerWith();
    const leaving = new AbortController();
    const gone = coalescer.shout('a', leaving.signal);
    const staying = coalescer.shout('b', live());
    await flush();
    const reason = new Error('client gone');
    leaving.abort(reason);
    await expect(gone).rejects.toBe(reason);
    expect(calls[0].signal.aborted).toBe(false);
    calls[0].answer('AB');
    await expect(staying).resolves.toBe('B');
  });

  it('cancels a call once every caller in it has left', async () => {
    const { coalescer, calls } = coalescerWith();
    const callers = [new AbortController(), new AbortController()];
    const answers = callers.map((caller, index) => coalescer.shout(String(index), caller.signal));
    await flush();
    callers[0].abort(new Error('first gone'));
    await expect(answers[0]).rejects.toThrow('first gone');
    expect(calls[0].signal.aborted).toBe(false);
    const last = new Error('last gone');
    callers[1].abort(last);
    expect(calls[0].signal.aborted).toBe(true);
    expect(calls[0].signal.reason).toBe(last);
    await expect(answers[1]).rejects.toBe(last);
  });

  it('does not send a text whose caller left before the flush', async () => {
    const { coalescer, send, calls } = coalescerWith();
    const caller = new AbortController();
    const gone = coalescer.shout('gone', caller.signal);
    const kept = coalescer.shout('kept', live());
    caller.abort(new Error('left'));
    await expect(gone).rejects.toThrow('left');
    await flush();
    expect(send).toHaveBeenCalledTimes(1);
    expect(calls[0].text).toBe('kept');
    calls[0].answer('KEPT');
    await expect(kept).resolves.toBe('KEPT');
  });

  it('refuses at once a caller that has already left', async () => {
    const { coalescer, send } = coalescerWith();
    const reason = new Error('already gone');
    await expect(coalescer.shout('x', AbortSignal.abort(reason))).rejects.toBe(reason);
    await flush();
    expect(send).not.toHaveBeenCalled();
  });
});
