import type { FastifyReply } from 'fastify';
import { ApiError } from '../errors/api-error.js';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';
import { ShoutcloudDeadlineError } from '../shoutcloud/shoutcloud.errors.js';

/** The client closed the connection before its answer was ready; nobody is left to answer. */
export class ClientGoneError extends ApiError {
  constructor() {
    // 499: nginx's "client closed request", for logs; nothing is sent on a closed connection.
    super(499, ERROR_SENTENCES.clientGone);
    this.name = 'ClientGoneError';
  }
}

/**
 * The one cancellation signal of a request: aborted with a {@link ShoutcloudDeadlineError} (504)
 * once `deadlineMs` has passed, or with a {@link ClientGoneError} if the client closes the
 * connection before its answer is written.
 */
export function requestSignal(reply: FastifyReply, deadlineMs: number): AbortSignal {
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(new ShoutcloudDeadlineError(deadlineMs)), deadlineMs);
  reply.raw.once('close', () => {
    clearTimeout(deadline);
    if (!reply.raw.writableFinished) controller.abort(new ClientGoneError());
  });
  return controller.signal;
}
