import { applyDecorators } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiConsumes,
  ApiGatewayTimeoutResponse,
  ApiOkResponse,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../errors/error-response.dto.js';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';
import { TransformBatchResponseDto } from './dto/transform-batch-response.dto.js';
import { TransformResponseDto } from './dto/transform-response.dto.js';
import { BATCH_X_CACHE_HEADER, X_CACHE_HEADER } from './x-cache.js';

// The answers each route documents in /docs, every example sentence read from the table the
// exception filter answers with. Defaults stand in where a sentence names a setting.
const DEFAULT_MAX_BODY_BYTES = 131_072;
const DEFAULT_DEADLINE_MS = 3000;

const REQUEST_ID_HEADER = { description: 'Your X-Request-Id if short and safe, or a new one.', schema: { type: 'string' } };

/** An error answer documented with its own example, so /docs shows what each status looks like. */
const error = (statusCode: number, sentence: string, details?: string[]) => ({
  type: ErrorResponseDto,
  example: details ? { statusCode, error: sentence, details } : { statusCode, error: sentence },
});

/** What every route answers besides its own 200 and 400: limits, and Shoutcloud's failures. */
const SharedAnswers = () =>
  applyDecorators(
    ApiPayloadTooLargeResponse({
      description: 'The body is larger than MAX_BODY_BYTES.',
      ...error(413, ERROR_SENTENCES.bodyTooLarge(DEFAULT_MAX_BODY_BYTES)),
    }),
    ApiTooManyRequestsResponse({
      description: 'Rate limit hit (when configured); see Retry-After.',
      ...error(429, ERROR_SENTENCES.tooManyRequests),
    }),
    ApiBadGatewayResponse({
      description: 'Shoutcloud refused the request or answered something unusable.',
      ...error(502, ERROR_SENTENCES.upstreamBadReply),
    }),
    ApiServiceUnavailableResponse({
      description: 'Shoutcloud unreachable or failing after retries, or the circuit is open; see Retry-After.',
      ...error(503, ERROR_SENTENCES.upstreamUnavailable),
    }),
    ApiGatewayTimeoutResponse({
      description: 'Shoutcloud did not answer within the request deadline (REQUEST_DEADLINE_MS).',
      ...error(504, ERROR_SENTENCES.upstreamDeadline(DEFAULT_DEADLINE_MS)),
    }),
  );

/** `POST /transform`: one text, as JSON or as a form. */
export const ApiTransformAnswers = () =>
  applyDecorators(
    ApiConsumes('application/json', 'application/x-www-form-urlencoded'),
    ApiOkResponse({ description: 'The text reversed and in capitals; X-Cache says where the answer came from.', type: TransformResponseDto, headers: { 'X-Cache': X_CACHE_HEADER, 'X-Request-Id': REQUEST_ID_HEADER } }),
    ApiBadRequestResponse({
      description: 'The body is not parseable (JSON sent as a form included), or `data` is missing, not a string, not well-formed Unicode, or too long.',
      ...error(400, ERROR_SENTENCES.invalidBody, ['data must be a string']),
    }),
    ApiUnsupportedMediaTypeResponse({ description: 'The body is neither JSON nor a form.', ...error(415, ERROR_SENTENCES.unsupportedMediaType) }),
    SharedAnswers(),
  );

/** `POST /transform/batch`: many texts, as JSON only. */
export const ApiBatchAnswers = () =>
  applyDecorators(
    ApiConsumes('application/json'),
    ApiOkResponse({ description: 'Each text reversed and in capitals, in the order sent.', type: TransformBatchResponseDto, headers: { 'X-Cache': BATCH_X_CACHE_HEADER, 'X-Request-Id': REQUEST_ID_HEADER } }),
    ApiBadRequestResponse({
      description: 'The body is not parseable, `data` is not an array or has too many items, or an item is not valid (named by its index).',
      ...error(400, ERROR_SENTENCES.invalidBody, ['data[1] must be a string', 'data[3] must be well-formed Unicode (no lone surrogates)']),
    }),
    ApiUnsupportedMediaTypeResponse({ description: 'The body is not JSON (a form included).', ...error(415, ERROR_SENTENCES.jsonOnly) }),
    SharedAnswers(),
  );

/** The old routes: `POST /transform`'s answers, with one 400 sentence for any body problem. */
export const ApiLegacyAnswers = () =>
  applyDecorators(
    ApiConsumes('application/json', 'application/x-www-form-urlencoded'),
    ApiOkResponse({ description: 'The text reversed and in capitals, as `POST /transform` answers it.', type: TransformResponseDto, headers: { 'X-Cache': X_CACHE_HEADER, 'X-Request-Id': REQUEST_ID_HEADER } }),
    ApiBadRequestResponse({ description: 'Any problem with the body or its content type.', ...error(400, ERROR_SENTENCES.legacyBadRequest) }),
    SharedAnswers(),
  );
