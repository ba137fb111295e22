import { HttpException } from '@nestjs/common';

/** An error answer in the API's one shape: a status, one human sentence, optional details. */
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
