import type { Logger } from '@nestjs/common';
import type { UpstreamFailure } from './shoutcloud.errors.js';

/** How often one cause of failure is written again while it lasts. */
const REPEAT_EVERY_MS = 60_000;

/**
 * Writes why Shoutcloud failed, at `warn`, with its address: one line per cause (a kind and its
 * detail, e.g. `connection failed (ECONNREFUSED)`) and then at most one a minute for it, with the
 * number of tries it failed meanwhile, so an outage tells the operator what it is without
 * flooding the log.
 */
export class ShoutcloudFailureLog {
  private readonly lastWritten = new Map<string, { at: number; since: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly endpoint: string,
  ) {}

  report({ kind, detail }: UpstreamFailure): void {
    const cause = `${kind}: ${detail}`;
    const now = Date.now();
    const last = this.lastWritten.get(cause);
    if (last && now - last.at < REPEAT_EVERY_MS) {
      last.since++;
      return;
    }
    const repeated = last ? ` (${last.since + 1} tries failed this way since the last line)` : '';
    this.logger.warn(`Shoutcloud at ${this.endpoint} failed a try: ${detail}${repeated}`);
    // Causes are few (kinds times status codes and error codes), so the map stays small.
    this.lastWritten.set(cause, { at: now, since: 0 });
  }
}
