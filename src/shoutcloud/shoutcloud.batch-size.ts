/** The smallest bound a call shrinks to (or the most, if smaller): a longer text still goes, alone. */
const MIN_BYTES = 1024;
/** Where the bound starts, as a share of the most: it grows once calls show they are fast. */
const START_SHARE = 4;

/**
 * How many UTF-8 bytes of text the next call may carry, learned from the calls before it. An
 * upstream whose time grows with the size of a call would otherwise be sent calls that run past
 * the per-try timeout as the queue grows. The bound starts at a quarter of the most; a call that
 * filled at least half of it and took under half the target doubles it, up to the most; a call
 * slower than the target shrinks it to what would have taken the target at the same pace; a
 * call that timed out quarters it.
 */
export class BatchSize {
  private limit: number;
  private readonly leastBytes: number;

  constructor(
    private readonly maxBytes: number,
    /** The longest a call should take, in ms: half the per-try timeout. */
    private readonly targetMs: number,
  ) {
    this.leastBytes = Math.min(MIN_BYTES, maxBytes);
    this.limit = Math.max(this.leastBytes, Math.floor(maxBytes / START_SHARE));
  }

  /** The bound of the next call, in UTF-8 bytes. */
  get bytes(): number {
    return this.limit;
  }

  /** A call of `bytes` was answered after `ms`. */
  answered(bytes: number, ms: number): void {
    if (ms > this.targetMs) this.limit = Math.max(this.leastBytes, Math.min(this.limit, Math.floor((bytes * this.targetMs) / ms)));
    else if (ms < this.targetMs / 2 && bytes * 2 >= this.limit) this.limit = Math.min(this.maxBytes, this.limit * 2);
  }

  /** A call of `bytes` ran past its time. */
  timedOut(bytes: number): void {
    this.limit = Math.max(this.leastBytes, Math.min(this.limit, Math.floor(bytes / 4)));
  }
}
