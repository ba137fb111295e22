import { jest } from '@jest/globals';
import type { FastifyReply } from 'fastify';
import { EventEmitter } from 'node:events';
import { ShoutcloudDeadlineError } from '../shoutcloud/shoutcloud.errors.js';
import { ClientGoneError, requestSignal } from './request-signal.js';

/** A reply whose raw response can be closed, finished or not. */
function replyThatCloses() {
  const raw = Object.assign(new EventEmitter(), { writableFinished: false });
  const close = (finished: boolean) => {
    raw.writableFinished = finished;
    raw.emit('close');
  };
  return { reply: { raw } as unknown as FastifyReply, close };
}

describe('requestSignal', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('aborts with the 504 deadline error once the deadline has passed', () => {
    const signal = requestSignal(replyThatCloses().reply, 3000);
    jest.advanceTimersByTime(2999);
    expect(signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(signal.reason).toBeInstanceOf(ShoutcloudDeadlineError);
    expect((signal.reason as ShoutcloudDeadlineError).getStatus()).toBe(504);
  });

  it('aborts with ClientGoneError when the connection closes before the answer is written', () => {
    const { reply, close } = replyThatCloses();
    const signal = requestSignal(reply, 3000);
    close(false);
    expect(signal.reason).toBeInstanceOf(ClientGoneError);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never aborts once the answer is written, and leaves no timer behind', () => {
    const { reply, close } = replyThatCloses();
    const signal = requestSignal(reply, 3000);
    close(true);
    jest.advanceTimersByTime(10_000);
    expect(signal.aborted).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });
});
