import { CircuitState } from 'cockatiel';

/**
 * A circuit breaker's state as operators read it in `/health`, metrics and spans: `closed`
 * (calls go through), `half-open` (one probe is running), `open` (calls are skipped).
 */
export const BREAKER_STATES = ['closed', 'half-open', 'open'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

/** The name of a cockatiel breaker's state; an isolated breaker is open. */
export function breakerStateName(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return 'closed';
  return state === CircuitState.HalfOpen ? 'half-open' : 'open';
}
