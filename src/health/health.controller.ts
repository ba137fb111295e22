import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthIndicatorService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { Readiness } from './readiness.js';

@ApiTags('health')
@SkipThrottle()
@Controller('health')
export class HealthController {
  constructor(
    private readonly checks: Readiness,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /**
   * Readiness
   *
   * @remarks 200 while this process can serve; 503 from the moment it starts shutting down. Shoutcloud and
   * Redis are shown for information and never make it fail: every replica shares them.
   */
  @Get()
  @HealthCheck()
  @ApiOperation({ operationId: 'readiness' })
  readiness() {
    return this.checks.check('public');
  }

  /**
   * Liveness
   *
   * @remarks 200 whenever the process and its event loop answer at all; never depends on Shoutcloud or Redis.
   */
  @Get('live')
  @ApiOperation({ operationId: 'liveness' })
  @ApiOkResponse({
    description: 'The process answers.',
    schema: {
      type: 'object',
      required: ['status', 'info', 'error', 'details'],
      properties: { status: { type: 'string', enum: ['ok'] }, info: { type: 'object' }, error: { type: 'object' }, details: { type: 'object' } },
      example: { status: 'ok', info: { process: { status: 'up', uptimeSeconds: 42 } }, error: {}, details: { process: { status: 'up', uptimeSeconds: 42 } } },
    },
  })
  liveness() {
    // Not through HealthCheckService: that answers 503 during shutdown, and a draining pod is
    // not a dead one. Answering at all proves the event loop turns.
    const process_ = this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) });
    return { status: 'ok', info: process_, error: {}, details: process_ };
  }
}
