/**
 * Why one upstream try failed. `transient` kinds are retried and count towards the breaker;
 * `malformed` counts towards the breaker but is not retried (the same input would get the same
 * reply); `rejected` (a 4xx other than 429) is neither.
 */
export type UpstreamFailureKind = 'timeout' | 'connection' | 'status_5xx' | 'status_429' | 'rejected' | 'malformed';

const TRANSIENT: ReadonlySet<UpstreamFailureKind> = new Set(['timeout', 'connection', 'status_5xx', 'status_429']);

/** One failed HTTP try against Shoutcloud, classified. */
export class UpstreamTryError extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamTryError';
  }

  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }
}

/** Base of the errors the Shoutcloud provider throws to its callers. */
export abstract class ShoutcloudError extends Error {
  abstract readonly status: 502 | 503 | 504;
}

/** Shoutcloud is unreachable or failing after retries, or the breaker is open: answer 503. */
export class ShoutcloudUnavailableError extends ShoutcloudError {
  readonly status = 503;
  constructor(
    message: string,
    /** Seconds the caller should wait before trying again. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'ShoutcloudUnavailableError';
  }
}

/** The request's upstream deadline ran out: answer 504. */
export class ShoutcloudTimeoutError extends ShoutcloudError {
  readonly status = 504;
  constructor(deadlineMs: number) {
    super(`Shoutcloud did not answer within the ${deadlineMs} ms deadline.`);
    this.name = 'ShoutcloudTimeoutError';
  }
}

/** Shoutcloud refused the request or answered something unusable: answer 502. */
export class ShoutcloudBadReplyError extends ShoutcloudError {
  readonly status = 502;
  constructor(message: string) {
    super(message);
    this.name = 'ShoutcloudBadReplyError';
  }
}

/** The caller went away; nobody is left to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super('The client closed the connection before an answer was ready.');
    this.name = 'ClientGoneError';
  }
}
