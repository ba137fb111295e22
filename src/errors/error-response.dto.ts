/** Every error the API answers, whatever the status. */
export class ErrorResponseDto {
  /**
   * The HTTP status, repeated for clients that only keep the body.
   * @example 400
   */
  statusCode!: number;

  /**
   * What went wrong, in one sentence a person can act on.
   * @example "The request body is not valid."
   */
  error!: string;

  /**
   * Each problem found, where validation found any.
   * @example ["data must be a string"]
   */
  details?: string[];
}
