import { ApiError } from '../errors/api-error.js';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';

/**
 * Why one upstream try failed. `transient` kinds are retried and count towards the breaker;
 * `malformed` (a reply that is not usable: see `parseReply`) counts towards the breaker but is
 * not retried (the same input would get the same reply); `rejected` (a 4xx other than 429) is neither.
 */
export type UpstreamFailureKind = 'timeout' | 'connection' | 'status_5xx' | 'status_429' | 'rejected' | 'malformed';

/** One failed HTTP try, as the logs and metrics see it: never the user's text. */
export interface UpstreamFailure {
  readonly kind: UpstreamFailureKind;
  /** What happened, for the log: `connection failed (ECONNREFUSED)`, `answered 503`, … */
  readonly detail: string;
  /** Seconds Shoutcloud asked to be left alone (the `Retry-After` of its 429 or 503), if it did. */
  readonly pauseSeconds?: number;
}

/** Base of the errors the Shoutcloud provider answers its callers with: Shoutcloud gave no answer. */
export abstract class ShoutcloudError extends ApiError {
  /** The try that failed, when a try failed (not when the breaker, a pause or the queue refused). */
  abstract readonly failure?: UpstreamFailure;
}

/** Shoutcloud is unreachable or failing, the breaker is open, or it asked us to wait: 503. */
export class ShoutcloudUnavailableError extends ShoutcloudError {
  constructor(
    sentence: string,
    /** Seconds the caller should wait before trying again. */
    readonly retryAfterSeconds: number,
    readonly failure?: UpstreamFailure,
  ) {
    super(503, sentence, undefined, { 'retry-after': String(retryAfterSeconds) });
    this.name = 'ShoutcloudUnavailableError';
  }
}

/**
 * The caller's time for an answer ran out: 504. A caller aborts the signal it gives
 * {@link ShoutcloudService.shout} with this reason; a stale or fallback answer may still be given.
 */
export class ShoutcloudDeadlineError extends ShoutcloudError {
  readonly failure = undefined;

  constructor(deadlineMs: number) {
    // Whatever was being asked goes on for the other callers and may be cached in a moment.
    super(504, ERROR_SENTENCES.upstreamDeadline(deadlineMs), undefined, { 'retry-after': '1' });
    this.name = 'ShoutcloudDeadlineError';
  }
}

/** Shoutcloud refused the request or answered something unusable: 502. */
export class ShoutcloudBadReplyError extends ShoutcloudError {
  constructor(
    sentence: string,
    readonly failure?: UpstreamFailure,
  ) {
    super(502, sentence);
    this.name = 'ShoutcloudBadReplyError';
  }
}

const TRANSIENT: ReadonlySet<UpstreamFailureKind> = new Set(['timeout', 'connection', 'status_5xx', 'status_429']);

/** The error one failed try is answered with, classified once, where the try fails. */
export function upstreamFailure(kind: UpstreamFailureKind, detail: string, pauseSeconds?: number): ShoutcloudError {
  const failure = { kind, detail, pauseSeconds };
  if (TRANSIENT.has(kind)) return new ShoutcloudUnavailableError(ERROR_SENTENCES.upstreamUnavailable, pauseSeconds ?? 1, failure);
  const sentence = kind === 'rejected' ? ERROR_SENTENCES.upstreamRejected : ERROR_SENTENCES.upstreamBadReply;
  return new ShoutcloudBadReplyError(sentence, failure);
}

/** A failed try worth another: a timeout, a connection failure, a 5xx or a 429. */
export const isTransient = (error: unknown): error is ShoutcloudUnavailableError =>
  error instanceof ShoutcloudUnavailableError && error.failure !== undefined;

/** A failed try that ran out of time. */
export const isTimeout = (error: unknown): boolean => error instanceof ShoutcloudError && error.failure?.kind === 'timeout';
