import { ApiError } from '../errors/api-error.js';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';

/**
 * Why one upstream try failed. `transient` kinds are retried and count towards the breaker;
 * `malformed` (a reply that is not usable: see `parseReply`) counts towards the breaker but is
 * not retried (the same input would get the same reply); `rejected` (a 4xx other than 429) is neither.
 */
export type UpstreamFailureKind = 'timeout' | 'connection' | 'status_5xx' | 'status_429' | 'rejected' | 'malformed';

const TRANSIENT: ReadonlySet<UpstreamFailureKind> = new Set(['timeout', 'connection', 'status_5xx', 'status_429']);

/** One failed HTTP try against Shoutcloud, classified. */
export class UpstreamTryError extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    /** Seconds Shoutcloud asked to wait (the `Retry-After` of its 429 or 503), as it said them. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'UpstreamTryError';
  }

  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }
}

/** Base of the errors the Shoutcloud provider answers its callers with: Shoutcloud gave no answer. */
export abstract class ShoutcloudError extends ApiError {}

/** Shoutcloud is unreachable or failing after retries, or the breaker is open: 503. */
export class ShoutcloudUnavailableError extends ShoutcloudError {
  constructor(
    message: string,
    /** Seconds the caller should wait before trying again. */
    readonly retryAfterSeconds: number,
  ) {
    super(503, message, undefined, { 'retry-after': String(retryAfterSeconds) });
    this.name = 'ShoutcloudUnavailableError';
  }
}

/**
 * The caller's time for an answer ran out: 504. A caller aborts the signal it gives
 * {@link ShoutcloudService.shout} with this reason; a stale or fallback answer may still be given.
 */
export class ShoutcloudDeadlineError extends ShoutcloudError {
  constructor(deadlineMs: number) {
    super(504, ERROR_SENTENCES.upstreamDeadline(deadlineMs));
    this.name = 'ShoutcloudDeadlineError';
  }
}

/** Shoutcloud refused the request or answered something unusable: 502. */
export class ShoutcloudBadReplyError extends ShoutcloudError {
  constructor(message: string) {
    super(502, message);
    this.name = 'ShoutcloudBadReplyError';
  }
}
