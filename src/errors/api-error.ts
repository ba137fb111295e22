import { HttpException } from '@nestjs/common';

/**
 * The one base of every error that knows its answer: a status, one human sentence, optional
 * details and headers. A feature's errors extend it; the exception filter maps only this base.
 */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly sentence: string,
    readonly details?: string[],
    readonly headers: Record<string, string> = {},
  ) {
    super(sentence, status);
  }
}
