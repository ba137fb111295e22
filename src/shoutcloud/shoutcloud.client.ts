import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AxiosError, type AxiosResponse } from 'axios';
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  EventEmitter,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  fullJitterGenerator,
  handleWhen,
  retry,
  timeout,
  wrap,
  type Event,
  type IDefaultPolicyContext,
  type IPolicy,
  type IRetryContext,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';
import { breakerStateName, type BreakerState } from '../resilience/breaker-state.js';
import { SpanName, upstreamTryAttributes, withSpan } from '../tracing/tracing.js';
import { RetryBudget } from './retry-budget.js';
import type { ClosableAdapter } from './shoutcloud.http-adapter.js';
import { Hedge, HedgeDelay, HedgeLostError, type HedgeEvent } from './shoutcloud.hedge.js';
import { shoutcloudConfig } from './shoutcloud.config.js';
import { parseReply, replyByteLimit } from './shoutcloud.reply.js';
import { ShoutcloudFailureLog } from './shoutcloud.failure-log.js';
import {
  ShoutcloudBadReplyError,
  ShoutcloudError,
  ShoutcloudUnavailableError,
  isTransient,
  upstreamFailure,
  type UpstreamFailureKind,
} from './shoutcloud.errors.js';

/** Thrown inside the policy when a retry would overdraw the budget; carries the last failure. */
class RetryBudgetExhaustedError extends Error {
  constructor(readonly lastFailure: unknown) {
    super('Retry budget exhausted');
  }
}

// A malformed 200 says the upstream is broken just as a 500 does, so it trips the breaker,
// but retrying it would only ask the same broken upstream the same question again.
const countsAgainstUpstream = (error: unknown) =>
  isTransient(error) || (error instanceof ShoutcloudBadReplyError && error.failure?.kind === 'malformed');

/** What the client reports for each try, for metrics and logs. */
export interface UpstreamTryEvent {
  /**
   * `cancelled`: the caller stopped waiting; `hedge_lost`: the other try of a hedged pair answered
   * first. Neither is a failure of Shoutcloud.
   */
  outcome: 'success' | 'cancelled' | 'hedge_lost' | UpstreamFailureKind;
  durationMs: number;
}

/**
 * Talks to Shoutcloud: one `POST /V1/SHOUT` per try, composed outermost-first as
 * retry (exponential backoff, full jitter, budget) → circuit breaker → hedge (a second try when
 * one runs past the learned delay, within the budget, only while the breaker is closed) →
 * per-try timeout, all under the caller's signal. The breaker sees a hedged pair as one try.
 * A `Retry-After` on Shoutcloud's 429 or 503 is obeyed: no try leaves before it has passed.
 * Throws a {@link ShoutcloudError}, classified where the try failed, or the signal's reason once
 * it aborts.
 */
@Injectable()
export class ShoutcloudClient implements OnApplicationShutdown {
  private readonly logger = new Logger(ShoutcloudClient.name);
  private readonly endpoint: string;
  private readonly policy: IPolicy<IRetryContext & IDefaultPolicyContext>;
  private readonly perTryTimeout: TimeoutPolicy;
  private readonly hedge: Hedge | undefined;
  private readonly breaker;
  private readonly budget: RetryBudget;
  private openedAt = 0;
  /** Epoch ms before which Shoutcloud asked not to be called. */
  private pausedUntil = 0;
  private readonly failureLog: ShoutcloudFailureLog;
  private lastOutcome: UpstreamTryEvent['outcome'] | 'none' = 'none';
  private readonly tryEmitter = new EventEmitter<UpstreamTryEvent>();
  /** Fires once per HTTP try, however it ended. */
  readonly onTry = this.tryEmitter.addListener;
  /** Fires when a retry is scheduled after a transient failure. */
  readonly onRetry: RetryPolicy['onRetry'];
  /** Fires when a try is hedged (never with hedging off). */
  readonly onHedge: Event<HedgeEvent>;

  constructor(
    private readonly http: HttpService,
    @Inject(shoutcloudConfig.KEY) private readonly config: ConfigType<typeof shoutcloudConfig>,
  ) {
    this.endpoint = `${config.url}/V1/SHOUT`;
    this.failureLog = new ShoutcloudFailureLog(this.logger, this.endpoint);
    this.budget = new RetryBudget(config.retryBudgetPercent);

    const retryPolicy = retry(handleWhen(isTransient), {
      maxAttempts: config.retries,
      backoff: new ExponentialBackoff({ generator: fullJitterGenerator, initialDelay: 50, maxDelay: 1000 }),
    });
    this.breaker = circuitBreaker(handleWhen(countsAgainstUpstream), {
      halfOpenAfter: config.breakerHalfOpenMs,
      breaker: new ConsecutiveBreaker(config.breakerThreshold),
    });
    // Cooperative: the try itself sees its signal abort and says why (its own timeout, or the
    // caller giving up), instead of the policy calling both a timeout and the breaker counting it.
    // abortOnReturn off: aborting a finished try's signal only costs a DOMException per call.
    this.perTryTimeout = timeout(config.timeoutMs, { strategy: TimeoutStrategy.Cooperative, abortOnReturn: false });
    // The hedge runs between the breaker and the per-try timeout, so each of its tries has its
    // own timeout; not a cockatiel policy, hence two policies here and the hedge in `hedged`.
    this.policy = wrap(retryPolicy, this.breaker);
    this.hedge = config.hedge
      ? new Hedge(
          new HedgeDelay({ minMs: config.hedgeMinMs, maxMs: config.hedgeMaxMs }),
          // Never while the breaker is open or probing; a hedge is a try the budget pays for.
          () => this.breaker.state === CircuitState.Closed && this.budget.tryWithdraw(),
        )
      : undefined;
    this.onHedge = this.hedge?.onHedge ?? new EventEmitter<HedgeEvent>().addListener;

    this.onRetry = retryPolicy.onRetry;
    this.breaker.onBreak(() => {
      this.openedAt = Date.now();
      this.logger.warn(`Circuit breaker opened: Shoutcloud failed ${config.breakerThreshold} tries in a row`);
    });
    this.breaker.onHalfOpen(() => this.logger.log('Circuit breaker half-open: probing Shoutcloud'));
    this.breaker.onReset(() => this.logger.log('Circuit breaker closed: Shoutcloud answers again'));
  }

  /** Runs after the HTTP server has drained, so no try is cut short. */
  async onApplicationShutdown(): Promise<void> {
    await (this.http.axiosRef.defaults.adapter as Partial<ClosableAdapter> | undefined)?.close?.();
  }

  /** `closed`, `open` or `half-open`. */
  get breakerState(): BreakerState {
    return breakerStateName(this.breaker.state);
  }

  /** How the most recent upstream try ended, `none` before the first. */
  get lastTryOutcome(): UpstreamTryEvent['outcome'] | 'none' {
    return this.lastOutcome;
  }

  /**
   * Upper-cases `text` through Shoutcloud.
   * @param signal aborts every try and pending retry; its reason is then what this throws.
   */
  async shout(text: string, signal: AbortSignal): Promise<string> {
    this.throwIfPaused();
    this.budget.recordRequest();
    let lastFailure: unknown;
    try {
      return await this.policy.execute(async ({ signal: policySignal, attempt }) => {
        // cockatiel's backoff does not watch the signal: a caller may have left during it.
        if (signal.aborted) throw signal.reason;
        // Neither retried nor counted by the breaker: the pause is Shoutcloud's word, not a failure.
        if (attempt > 0) this.throwIfPaused();
        if (attempt > 0 && !this.budget.tryWithdraw()) throw new RetryBudgetExhaustedError(lastFailure);
        try {
          return await this.hedged(text, policySignal, signal, attempt + 1);
        } catch (error) {
          lastFailure = error;
          throw error;
        }
      }, signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.finalError(error);
    }
  }

  private throwIfPaused(): void {
    const remainingMs = this.pausedUntil - Date.now();
    if (remainingMs > 0) throw new ShoutcloudUnavailableError(ERROR_SENTENCES.upstreamPaused, Math.ceil(remainingMs / 1000));
  }

  /** One try, or two when the first runs long; each HTTP try under its own timeout and span. */
  private hedged(text: string, policySignal: AbortSignal, callerSignal: AbortSignal, attemptNumber: number): Promise<string> {
    // One span per HTTP try (a hedged pair: two spans of the same attempt), the parent of the
    // `traceparent` that try sends.
    const attempt = (attemptSignal: AbortSignal) =>
      withSpan(SpanName.UpstreamTry, upstreamTryAttributes(attemptNumber, this.breakerState), () =>
        this.perTryTimeout.execute(({ signal: trySignal }) => this.tryOnce(text, trySignal, attemptSignal, callerSignal), attemptSignal),
      );
    return this.hedge ? this.hedge.execute(attempt, policySignal) : attempt(policySignal);
  }

  private async tryOnce(text: string, trySignal: AbortSignal, attemptSignal: AbortSignal, callerSignal: AbortSignal): Promise<string> {
    const started = performance.now();
    let outcome: UpstreamTryEvent['outcome'] = 'success';
    try {
      return parseReply(await this.post(text, trySignal, attemptSignal, callerSignal));
    } catch (error) {
      const failure = error instanceof ShoutcloudError ? error.failure : undefined;
      outcome = failure ? failure.kind : error instanceof HedgeLostError ? 'hedge_lost' : 'cancelled';
      if (failure?.pauseSeconds) this.pausedUntil = Math.max(this.pausedUntil, Date.now() + failure.pauseSeconds * 1000);
      if (failure) this.failureLog.report(failure);
      throw error;
    } finally {
      this.lastOutcome = outcome;
      this.tryEmitter.emit({ outcome, durationMs: performance.now() - started });
    }
  }

  private async post(
    text: string,
    trySignal: AbortSignal,
    attemptSignal: AbortSignal,
    callerSignal: AbortSignal,
  ): Promise<AxiosResponse<Buffer>> {
    const body = JSON.stringify({ INPUT: text });
    const maxContentLength = replyByteLimit(Buffer.byteLength(body));
    try {
      return await this.http.axiosRef.post<Buffer>(this.endpoint, body, { signal: trySignal, maxContentLength });
    } catch (error) {
      // The caller's reason is not Shoutcloud's fault: neither the breaker nor the retry handles it.
      if (callerSignal.aborted) throw callerSignal.reason;
      // The other try of a hedged pair answered first.
      if (attemptSignal.aborted) throw attemptSignal.reason;
      if (trySignal.aborted) throw upstreamFailure('timeout', `no answer within ${this.config.timeoutMs} ms`);
      // The adapter's (and axios') word for a body over maxContentLength: the reply cannot be
      // Shoutcloud's answer to this question, and asking again would fetch the same.
      if (error instanceof AxiosError && error.code === AxiosError.ERR_BAD_RESPONSE && !error.response) {
        throw upstreamFailure('malformed', `answered more than ${maxContentLength} bytes`);
      }
      const code = error instanceof AxiosError ? (error.code ?? 'unknown') : 'unknown';
      throw upstreamFailure('connection', `connection failed (${code})`);
    }
  }

  /** What `shout` throws once the policy gives up: the last try's own error where there was one. */
  private finalError(error: unknown): unknown {
    if (error instanceof BrokenCircuitError) {
      const remainingMs = this.openedAt + this.config.breakerHalfOpenMs - Date.now();
      return new ShoutcloudUnavailableError(ERROR_SENTENCES.upstreamBreakerOpen, Math.max(1, Math.ceil(remainingMs / 1000)));
    }
    if (error instanceof RetryBudgetExhaustedError) return error.lastFailure;
    if (error instanceof TaskCancelledError) return upstreamFailure('timeout', `no answer within ${this.config.timeoutMs} ms`);
    return error;
  }
}
