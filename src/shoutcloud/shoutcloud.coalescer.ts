import { EventEmitter } from 'cockatiel';

/** Sends one text to Shoutcloud and resolves with its upper-cased answer. */
export type SendText = (text: string, signal: AbortSignal) => Promise<string>;

export interface CoalescerOptions {
  /** The upstream call (the client, with its retries, breaker, hedge and timeouts). */
  send: SendText;
  /** Most UTF-8 bytes of text in one call; a longer text is sent alone. */
  maxBytes: number;
  /**
   * When the texts asked so far are sent. Default `setImmediate`: after the I/O callbacks of
   * the current event-loop turn, so a lone miss waits for no timer, and the requests parsed from
   * one wake-up of the loop travel together.
   */
  schedule?: (flush: () => void) => void;
}

/** A coalesced answer that did not split back; its texts were then sent one by one. */
export interface MismatchEvent {
  /** Texts in the call. */
  texts: number;
  expectedCodePoints: number;
  receivedCodePoints: number;
}

/** One upstream call was sent. */
export interface CallEvent {
  /** Texts in the call: 1 for a text sent alone. */
  texts: number;
}

/** One upstream call and the number of its waiters still waiting. */
interface Call {
  abort: AbortController;
  staying: number;
}

/** One caller's text, from the moment it is asked until it is answered or its caller leaves. */
interface Waiter {
  text: string;
  codePoints: number;
  signal: AbortSignal;
  resolve: (output: string) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  leave: () => void;
  call?: Call;
}

/**
 * Sends the texts asked at the same moment, from any requests, to Shoutcloud as one call: the
 * texts concatenated, the answer split back by each text's code-point count. That is exact
 * because Shoutcloud upper-cases code point by code point (Go's simple case mapping), so its
 * answer has as many code points as the question; an answer of another length is not trusted,
 * and its texts are sent again one per call. A lone text is sent as it is.
 *
 * A caller leaving (its signal aborting) is rejected with `signal.reason` at once; the call its
 * text was in goes on for the others and is aborted only when every one of its callers has left.
 */
export class ShoutcloudCoalescer {
  private pending: Waiter[] = [];
  private scheduled = false;
  private readonly send: SendText;
  private readonly maxBytes: number;
  private readonly schedule: (flush: () => void) => void;
  private readonly flushPending = () => this.flush();
  private readonly mismatchEmitter = new EventEmitter<MismatchEvent>();
  private readonly callEmitter = new EventEmitter<CallEvent>();
  /** cockatiel's event: an upstream call was sent. */
  readonly onCall = this.callEmitter.addListener;
  /** cockatiel's event: a coalesced answer did not split back. */
  readonly onMismatch = this.mismatchEmitter.addListener;

  constructor(options: CoalescerOptions) {
    this.send = options.send;
    this.maxBytes = options.maxBytes;
    this.schedule = options.schedule ?? setImmediate;
  }

  /** Upper-cases `text` through Shoutcloud, in one call with the other texts asked meanwhile. */
  shout(text: string, signal: AbortSignal): Promise<string> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<string>((resolve, reject) => {
      const waiter: Waiter = { text, codePoints: 0, signal, resolve, reject, settled: false, leave: () => this.left(waiter) };
      signal.addEventListener('abort', waiter.leave, { once: true });
      this.pending.push(waiter);
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(this.flushPending);
      }
    });
  }

  private flush(): void {
    const waiters = this.pending;
    this.pending = [];
    this.scheduled = false;
    let group: Waiter[] = [];
    let bytes = 0;
    for (const waiter of waiters) {
      if (waiter.settled) continue;
      const size = Buffer.byteLength(waiter.text, 'utf8');
      if (group.length > 0 && bytes + size > this.maxBytes) {
        this.start(group);
        group = [];
        bytes = 0;
      }
      group.push(waiter);
      bytes += size;
    }
    if (group.length > 0) this.start(group);
  }

  private start(waiters: Waiter[]): void {
    if (waiters.length === 1) return this.sendAlone(waiters[0]);
    const call = this.join(waiters);
    let question = '';
    for (const waiter of waiters) {
      waiter.codePoints = codePointCount(waiter.text);
      question += waiter.text;
    }
    this.callEmitter.emit({ texts: waiters.length });
    this.send(question, call.abort.signal).then(
      (answer) => this.split(waiters, answer),
      (error: unknown) => {
        for (const waiter of waiters) this.settle(waiter, error);
      },
    );
  }

  private sendAlone(waiter: Waiter): void {
    const call = this.join([waiter]);
    this.callEmitter.emit({ texts: 1 });
    this.send(waiter.text, call.abort.signal).then(
      (output) => this.settle(waiter, undefined, output),
      (error: unknown) => this.settle(waiter, error),
    );
  }

  private split(waiters: Waiter[], answer: string): void {
    const parts: string[] = [];
    let at = 0;
    for (const waiter of waiters) {
      const end = advanceCodePoints(answer, at, waiter.codePoints);
      if (end < 0) break;
      parts.push(answer.slice(at, end));
      at = end;
    }
    if (parts.length === waiters.length && at === answer.length) {
      waiters.forEach((waiter, index) => this.settle(waiter, undefined, parts[index]));
      return;
    }
    let expectedCodePoints = 0;
    for (const waiter of waiters) expectedCodePoints += waiter.codePoints;
    this.mismatchEmitter.emit({ texts: waiters.length, expectedCodePoints, receivedCodePoints: codePointCount(answer) });
    for (const waiter of waiters) if (!waiter.settled) this.sendAlone(waiter);
  }

  /** Makes a call of the waiters still waiting; it is aborted when the last of them leaves. */
  private join(waiters: Waiter[]): Call {
    const call: Call = { abort: new AbortController(), staying: 0 };
    for (const waiter of waiters) {
      if (waiter.settled) continue;
      waiter.call = call;
      call.staying++;
    }
    return call;
  }

  private left(waiter: Waiter): void {
    const { call } = waiter;
    this.settle(waiter, waiter.signal.reason);
    if (call && --call.staying === 0) call.abort.abort(waiter.signal.reason);
  }

  private settle(waiter: Waiter, error: unknown, output?: string): void {
    if (waiter.settled) return;
    waiter.settled = true;
    waiter.signal.removeEventListener('abort', waiter.leave);
    if (output === undefined) waiter.reject(error);
    else waiter.resolve(output);
  }
}

/** Code points in `text`; a lone surrogate counts as one, as it does for Shoutcloud (U+FFFD). */
function codePointCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** The UTF-16 index `codePoints` code points after `from`, or -1 when `text` ends first. */
function advanceCodePoints(text: string, from: number, codePoints: number): number {
  let at = from;
  for (let left = codePoints; left > 0; left--) {
    if (at >= text.length) return -1;
    const unit = text.charCodeAt(at);
    const next = text.charCodeAt(at + 1);
    at += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return at;
}
