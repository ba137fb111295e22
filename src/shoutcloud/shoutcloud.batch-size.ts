/** The smallest bound a call shrinks to: a text longer than the bound still goes, alone. */
const MIN_BYTES = 1024;

/**
 * How many UTF-8 bytes of text the next call may carry, learned from the calls before it. An
 * upstream whose time grows with the size of a call would otherwise be sent calls that run past
 * the per-try timeout as the queue grows. A call slower than the target shrinks the bound to
 * what would have taken the target at the same pace; a call that timed out quarters it; a call
 * that was near the bound and took under half the target doubles it, up to the configured most.
 */
export class BatchSize {
  private limit: number;

  constructor(
    private readonly maxBytes: number,
    /** The longest a call should take, in ms: half the per-try timeout. */
    private readonly targetMs: number,
  ) {
    this.limit = maxBytes;
  }

  /** The bound of the next call, in UTF-8 bytes. */
  get bytes(): number {
    return this.limit;
  }

  /** A call of `bytes` was answered after `ms`. */
  answered(bytes: number, ms: number): void {
    if (ms > this.targetMs) this.limit = Math.max(MIN_BYTES, Math.min(this.limit, Math.floor((bytes * this.targetMs) / ms)));
    else if (ms < this.targetMs / 2 && bytes * 2 >= this.limit) this.limit = Math.min(this.maxBytes, this.limit * 2);
  }

  /** A call of `bytes` ran past its time. */
  timedOut(bytes: number): void {
    this.limit = Math.max(MIN_BYTES, Math.min(this.limit, Math.floor(bytes / 4)));
  }
}
