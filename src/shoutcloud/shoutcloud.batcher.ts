import { EventEmitter } from 'cockatiel';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';
import { joinTexts, splitAnswer } from './shoutcloud.batch-call.js';
import { BatchSize } from './shoutcloud.batch-size.js';
import { ShoutcloudBadReplyError, ShoutcloudUnavailableError, isTimeout } from './shoutcloud.errors.js';

/**
 * The longest a freed slot waits for the callers of the call just answered to ask again, in ms
 * (see `regroup`): a client's turnaround is a few ms even on a loaded machine.
 */
const REGROUP_MAX_MS = 25;

/** Sends one text to Shoutcloud and resolves with its upper-cased answer. */
export type SendText = (text: string, signal: AbortSignal) => Promise<string>;

export interface BatcherOptions {
  /** The upstream call (the client, with its retries, breaker, hedge and timeouts). */
  send: SendText;
  /** Most UTF-8 bytes of text in one call; a longer text is sent alone. */
  maxBytes: number;
  /** The longest a call should take, in ms: calls slower than this carry fewer bytes after it. */
  targetCallMs: number;
  /**
   * Most upstream calls in flight at once. `Infinity`: every text is sent alone the moment it is
   * asked, and nothing ever waits.
   */
  maxCallsInFlight: number;
  /** Most UTF-8 bytes of text waiting for a slot; a text that would pass it is refused at once (503). */
  maxQueuedBytes: number;
}

/** A call's answer that was not, for some of its texts, a case variant of the text. */
export interface MismatchEvent {
  /** Texts in the call. */
  texts: number;
  /** Texts without a usable answer: sent again alone, or (a lone text) a bad reply. */
  rejected: number;
}

/** One upstream call was sent. */
export interface CallEvent {
  /** Texts in the call: 1 for a text sent alone. */
  texts: number;
  /** For each text of the call, the ms it waited for a slot (0: sent as it was asked). */
  waitedMs: readonly number[];
}

/** One upstream call and the number of its waiters still waiting. */
interface Call {
  abort: AbortController;
  staying: number;
}

/** One caller's text, from the moment it is asked until it is answered or its caller leaves. */
interface Waiter {
  text: string;
  bytes: number;
  signal: AbortSignal;
  resolve: (output: string) => void;
  reject: (error: unknown) => void;
  settled: boolean;
  leave: () => void;
  /** When it joined a queue, in `performance.now()` ms; unset for a text sent as it was asked. */
  queuedAt?: number;
  /** The queue it waits in, until its call is sent. */
  queue?: Set<Waiter>;
  call?: Call;
}

/**
 * Sends cache misses to Shoutcloud with at most `maxCallsInFlight` calls in flight: a text asked
 * while a slot is free goes at once (with the texts asked in the same synchronous stretch, e.g. the
 * misses of one batch request); a text asked while every slot is busy waits in one queue, and when
 * a slot frees the queue goes as one call of up to `maxBytes` (after a short wait for the callers
 * of the call just answered, see `regroup`). Under load the calls grow with the arrival rate and
 * Shoutcloud's latency by themselves, and a queued text waits about one call.
 *
 * A call of several texts sends them joined by a separator drawn for that call, and splits the
 * answer back at it (`shoutcloud.batch-call.ts`). Each text's part is taken only when it is a case
 * variant of that text, code point by code point, as Shoutcloud's rule makes it; a text whose part
 * is not is sent again alone, and the answer to a lone text that is not is a bad reply. The other
 * texts of the call keep their answers, so no text can cost another its place in a shared call.
 * How many bytes a call carries follows how long calls take (`shoutcloud.batch-size.ts`).
 *
 * A caller leaving (its signal aborting) is rejected with `signal.reason` at once: a queued text
 * leaves the queue; a call goes on for its other texts and is aborted only once every one of its
 * callers has left.
 */
export class ShoutcloudBatcher {
  /** Texts waiting for a slot, in the order asked. */
  private readonly queue = new Set<Waiter>();
  /** Texts of a shared call whose answer did not split back, each to be sent alone. */
  private readonly alone = new Set<Waiter>();
  private queuedBytes = 0;
  private inFlight = 0;
  private dispatchQueued = false;
  /** While a freed slot waits for the queue to hold this many texts (see {@link regroup}). */
  private regroupFor = 0;
  private regroupStart: NodeJS.Immediate | undefined;
  private regroupTimer: NodeJS.Timeout | undefined;
  private readonly send: SendText;
  private readonly size: BatchSize;
  private readonly maxCallsInFlight: number;
  private readonly maxQueuedBytes: number;
  private readonly dispatchNow = () => this.dispatch();
  private readonly mismatchEmitter = new EventEmitter<MismatchEvent>();
  private readonly callEmitter = new EventEmitter<CallEvent>();
  /** cockatiel's event: an upstream call was sent. */
  readonly onCall = this.callEmitter.addListener;
  /** cockatiel's event: an answer's length did not match its question. */
  readonly onMismatch = this.mismatchEmitter.addListener;

  constructor(options: BatcherOptions) {
    this.send = options.send;
    this.size = new BatchSize(options.maxBytes, options.targetCallMs);
    this.maxCallsInFlight = options.maxCallsInFlight;
    this.maxQueuedBytes = options.maxQueuedBytes;
  }

  /** Texts waiting for a slot. */
  get queued(): number {
    return this.queue.size + this.alone.size;
  }

  /** Upstream calls in flight. */
  get callsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Upper-cases `text` through Shoutcloud, alone or with the other texts waiting.
   * @param signal the caller leaving: the promise rejects with its reason, and the text is not sent
   *   (or its call is cancelled once no one else waits for it).
   */
  shout(text: string, signal: AbortSignal): Promise<string> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (this.queue.size > 0 && this.queuedBytes + bytes > this.maxQueuedBytes) {
      return Promise.reject(new ShoutcloudUnavailableError(ERROR_SENTENCES.upstreamQueueFull, 1));
    }
    return new Promise<string>((resolve, reject) => {
      const waiter: Waiter = {
        text,
        bytes,
        signal,
        resolve,
        reject,
        settled: false,
        leave: () => this.left(waiter),
      };
      signal.addEventListener('abort', waiter.leave, { once: true });
      if (this.maxCallsInFlight === Infinity) return this.start([waiter]);
      this.enqueue(this.queue, waiter);
      // A microtask, not a timer: the texts asked in this synchronous stretch go in one call, and a
      // lone text waits for nothing.
      if (this.inFlight < this.maxCallsInFlight && !this.dispatchQueued && this.queue.size >= this.regroupFor) {
        this.dispatchQueued = true;
        queueMicrotask(this.dispatchNow);
      }
    });
  }

  private enqueue(queue: Set<Waiter>, waiter: Waiter): void {
    waiter.queue = queue;
    waiter.queuedAt = performance.now();
    queue.add(waiter);
    if (queue === this.queue) this.queuedBytes += waiter.bytes;
  }

  private dequeue(waiter: Waiter): void {
    const { queue } = waiter;
    if (!queue) return;
    queue.delete(waiter);
    if (queue === this.queue) this.queuedBytes -= waiter.bytes;
    waiter.queue = undefined;
  }

  /** Fills the free slots: texts to be sent alone first (they have waited a call already), then the queue. */
  private dispatch(): void {
    this.dispatchQueued = false;
    this.regroupFor = 0;
    clearImmediate(this.regroupStart);
    clearTimeout(this.regroupTimer);
    this.regroupStart = this.regroupTimer = undefined;
    while (this.inFlight < this.maxCallsInFlight) {
      const next = this.alone.size > 0 ? [this.alone.values().next().value!] : this.nextCall();
      if (next.length === 0) return;
      for (const waiter of next) this.dequeue(waiter);
      this.start(next);
    }
  }

  /**
   * A call of `answered` texts has come back and freed its slot. Callers that each send their next
   * request when their answer comes (a load generator's connections, a job walking a list) come
   * back together, a moment later. Sending the queue at once would send the few texts that arrived
   * during the call without them (or the first of them alone), and the two groups would then
   * alternate on the slots for good, each waiting for the other's call. So when the queue holds
   * fewer than half as many texts as the call answered, the slot waits until it holds as many more,
   * or for the call's duration (at most {@link REGROUP_MAX_MS}), whichever comes first: a wait
   * that, when the callers do come back, saves the texts waiting a whole call. A steady stream has
   * about as many texts waiting as the call carried and goes at once, its next call in flight
   * while this one's answers are written; after a lone text's call, one text is enough.
   */
  private regroup(answered: number, callMs: number): void {
    if (this.alone.size > 0 || this.queue.size * 2 >= answered) return this.dispatch();
    this.regroupFor = Math.max(this.regroupFor, this.queue.size + answered);
    if (this.regroupStart || this.regroupTimer) return;
    // Counted from when the answers have gone out: handing them to their callers runs first, in
    // microtasks, and under load writing a hundred answers can take longer than the wait itself.
    this.regroupStart = setImmediate(() => {
      this.regroupStart = undefined;
      this.regroupTimer = setTimeout(this.dispatchNow, Math.min(callMs, REGROUP_MAX_MS));
    });
  }

  /** The oldest queued texts that fit in one call; the first always does. */
  private nextCall(): Waiter[] {
    const texts: Waiter[] = [];
    const maxBytes = this.size.bytes;
    let bytes = 0;
    for (const waiter of this.queue) {
      if (texts.length > 0 && bytes + waiter.bytes > maxBytes) break;
      texts.push(waiter);
      bytes += waiter.bytes;
    }
    return texts;
  }

  private start(waiters: Waiter[]): void {
    const call = this.join(waiters);
    const now = performance.now();
    const texts = waiters.map((waiter) => waiter.text);
    const question = joinTexts(texts);
    let bytes = 0;
    const waitedMs: number[] = [];
    for (const waiter of waiters) {
      bytes += waiter.bytes;
      waitedMs.push(waiter.queuedAt === undefined ? 0 : now - waiter.queuedAt);
    }
    this.inFlight++;
    this.callEmitter.emit({ texts: waiters.length, waitedMs });
    this.send(question.question, call.abort.signal).then(
      (answer) => {
        this.inFlight--;
        const tookMs = performance.now() - now;
        this.size.answered(bytes, tookMs);
        this.split(waiters, splitAnswer(texts, question, answer));
        this.regroup(waiters.length, tookMs);
      },
      (error: unknown) => {
        this.inFlight--;
        if (isTimeout(error)) this.size.timedOut(bytes);
        for (const waiter of waiters) this.settle(waiter, error);
        this.dispatch();
      },
    );
  }

  /** Hands each text its part; a text without a usable part goes again alone, or fails alone. */
  private split(waiters: Waiter[], parts: Array<string | undefined>): void {
    let rejected = 0;
    waiters.forEach((waiter, index) => {
      const part = parts[index];
      if (part !== undefined) return this.settle(waiter, undefined, part);
      rejected++;
      if (waiters.length === 1) return this.settle(waiter, new ShoutcloudBadReplyError(ERROR_SENTENCES.upstreamBadReply));
      if (waiter.settled) return;
      waiter.call = undefined;
      this.enqueue(this.alone, waiter);
    });
    if (rejected > 0) this.mismatchEmitter.emit({ texts: waiters.length, rejected });
  }

  /** Makes a call of the waiters still waiting; it is aborted when the last of them leaves. */
  private join(waiters: Waiter[]): Call {
    const call: Call = { abort: new AbortController(), staying: 0 };
    for (const waiter of waiters) {
      waiter.call = call;
      call.staying++;
    }
    return call;
  }

  private left(waiter: Waiter): void {
    const { call } = waiter;
    this.dequeue(waiter);
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
