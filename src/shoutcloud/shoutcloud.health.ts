import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ShoutcloudClient } from './shoutcloud.client.js';

/**
 * Shows the upstream's state in `/health` without ever failing readiness: Shoutcloud is shared by
 * every replica, and pulling them all from the Service would turn its outage into ours.
 * No request is sent to Shoutcloud for this.
 */
@Injectable()
export class ShoutcloudHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly client: ShoutcloudClient,
  ) {}

  check(key = 'shoutcloud') {
    return this.health.check(key).up({ breaker: this.client.breakerState, lastTry: this.client.lastTryOutcome });
  }
}
