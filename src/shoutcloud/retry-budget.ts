/**
 * Caps retries at a share of recent requests (Finagle's RetryBudget, gRPC's retry throttling),
 * so an outage of Shoutcloud does not multiply the load sent to it. The window is split into
 * one-second buckets; a small floor lets a quiet service still retry a little.
 */
export class RetryBudget {
  private readonly requests: number[];
  private readonly retries: number[];
  private currentSecond = 0;
  private cursor = 0;

  constructor(
    private readonly percent: number,
    private readonly windowSeconds = 10,
    private readonly minRetriesPerWindow = 10,
    private readonly now: () => number = Date.now,
  ) {
    this.requests = new Array<number>(windowSeconds).fill(0);
    this.retries = new Array<number>(windowSeconds).fill(0);
  }

  /** Call once per request that reaches the upstream. */
  recordRequest(): void {
    this.rotate();
    this.requests[this.cursor]++;
  }

  /** Takes a retry from the budget; false when the budget is spent. */
  tryWithdraw(): boolean {
    this.rotate();
    const allowed = this.minRetriesPerWindow + (sum(this.requests) * this.percent) / 100;
    if (sum(this.retries) + 1 > allowed) return false;
    this.retries[this.cursor]++;
    return true;
  }

  private rotate(): void {
    const second = Math.floor(this.now() / 1000);
    const elapsed = Math.min(second - this.currentSecond, this.windowSeconds);
    for (let i = 0; i < elapsed; i++) {
      this.cursor = (this.cursor + 1) % this.windowSeconds;
      this.requests[this.cursor] = 0;
      this.retries[this.cursor] = 0;
    }
    this.currentSecond = second;
  }
}

function sum(values: number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
