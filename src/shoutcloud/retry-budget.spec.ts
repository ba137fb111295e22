import { RetryBudget } from './retry-budget.js';

describe('RetryBudget', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_000_000));

  it('allows the floor even with no traffic, then refuses', () => {
    const budget = new RetryBudget(20, 10, 3, clock);
    expect([1, 2, 3, 4].map(() => budget.tryWithdraw())).toEqual([true, true, true, false]);
  });

  it('grows with traffic: 20% of 100 requests plus the floor', () => {
    const budget = new RetryBudget(20, 10, 0, clock);
    for (let i = 0; i < 100; i++) budget.recordRequest();
    const granted = Array.from({ length: 30 }, () => budget.tryWithdraw()).filter(Boolean).length;
    expect(granted).toBe(20);
  });

  it('forgets requests and retries older than the window', () => {
    const budget = new RetryBudget(0, 10, 2, clock);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    now += 10_000;
    expect(budget.tryWithdraw()).toBe(true);
  });

  it('slides second by second', () => {
    const budget = new RetryBudget(0, 3, 1, clock);
    expect(budget.tryWithdraw()).toBe(true);
    now += 1000;
    expect(budget.tryWithdraw()).toBe(false);
    now += 2000;
    expect(budget.tryWithdraw()).toBe(true);
  });
});
