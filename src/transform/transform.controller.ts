import { applyDecorators, Body, Controller, HttpCode, Inject, Post, Res } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiConsumes,
  ApiGatewayTimeoutResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiAlsoWithTrailingSlash } from '../docs/openapi.document.js';
import { BodyErrorSentence } from '../errors/error-route-config.js';
import { ErrorResponseDto } from '../errors/error-response.dto.js';
import { TransformBatchRequestDto } from './dto/transform-batch-request.dto.js';
import { TransformBatchResponseDto } from './dto/transform-batch-response.dto.js';
import { TransformRequestDto } from './dto/transform-request.dto.js';
import { TransformResponseDto } from './dto/transform-response.dto.js';
import { requestSignal } from './request-signal.js';
import { TransformBatchRequestPipe } from './transform-batch-request.pipe.js';
import { TransformRequestPipe } from './transform-request.pipe.js';
import { transformConfig } from './transform.config.js';
import { TransformService, type Transformed } from './transform.service.js';

/**
 * The old service's routes, kept for its clients: same behaviour, its own error sentence.
 * Its clients call `/v1/`, served by `/v1` (Fastify's `ignoreTrailingSlash`) and documented as such.
 */
const OLD_ROUTES = ['/', '/v1'];

/** The one sentence the old service answered to any body it could not use. */
const OLD_BAD_REQUEST = 'Data was not able to be parsed from request. Please try again.';

/** The `X-Cache` word for where an answer came from. */
const X_CACHE: Record<Transformed['source'], string> = {
  memory: 'HIT',
  redis: 'HIT',
  upstream: 'MISS',
  stale: 'STALE',
  fallback: 'FALLBACK',
  empty: 'BYPASS',
};

/**
 * A batch's `X-Cache`: the worst of its items', worst first. One header, and it never claims
 * better than its weakest item: FALLBACK if any item was upper-cased locally, else STALE if any
 * was stale, else MISS if any came from Shoutcloud just now, else HIT, else BYPASS.
 */
const WORST_FIRST: Transformed['source'][] = ['fallback', 'stale', 'upstream', 'redis', 'memory', 'empty'];
const RANK = new Map(WORST_FIRST.map((source, rank) => [source, rank]));

function worstSource(results: readonly Transformed[]): Transformed['source'] {
  let worst = WORST_FIRST.length - 1;
  for (const { source } of results) worst = Math.min(worst, RANK.get(source)!);
  return WORST_FIRST[worst];
}

const answerHeaders = {
  'X-Cache': {
    description:
      'Where the capitals came from: HIT (a cache), MISS (Shoutcloud just now), STALE (an expired answer, ' +
      'served because Shoutcloud gave none), FALLBACK (local upper-casing, when enabled) or BYPASS ("" needs none).',
    schema: { type: 'string', enum: [...new Set(Object.values(X_CACHE))] },
  },
  'X-Request-Id': { description: 'Your X-Request-Id if short and safe, or a new one.', schema: { type: 'string' } },
};

const batchHeaders = {
  ...answerHeaders,
  'X-Cache': {
    description:
      'The worst of the items\' provenances (see POST /transform): FALLBACK if any item was upper-cased ' +
      'locally, else STALE if any was stale, else MISS if any came from Shoutcloud just now, else HIT, else BYPASS.',
    schema: answerHeaders['X-Cache'].schema,
  },
};

/** An error answer documented with its own example, so /docs shows what each status looks like. */
const error = (statusCode: number, error: string) => ({ type: ErrorResponseDto, example: { statusCode, error } });

const UpstreamResponses = () =>
  applyDecorators(
    ApiTooManyRequestsResponse({
      description: 'Rate limit hit (when configured); see Retry-After.',
      ...error(429, 'Too many requests from this address; slow down and try again shortly.'),
    }),
    ApiBadGatewayResponse({
      description: 'Shoutcloud refused the request or answered something unusable.',
      ...error(502, 'Shoutcloud answered something that is not a usable reply.'),
    }),
    ApiServiceUnavailableResponse({
      description: 'Shoutcloud unreachable or failing after retries, or the circuit is open; see Retry-After.',
      ...error(503, 'Shoutcloud is unreachable or failing; try again shortly.'),
    }),
    ApiGatewayTimeoutResponse({
      description: 'Shoutcloud did not answer within the request deadline.',
      ...error(504, 'Shoutcloud did not answer within the 3000 ms deadline.'),
    }),
    ApiPayloadTooLargeResponse({
      description: 'The body is larger than MAX_BODY_BYTES.',
      ...error(413, 'The request body is larger than this API accepts.'),
    }),
  );

// Consumed types per route: @nestjs/swagger adds a method's to the controller's.
const JsonOrForm = () => ApiConsumes('application/json', 'application/x-www-form-urlencoded');

@ApiTags('transform')
@Controller()
export class TransformController {
  constructor(
    private readonly transformer: TransformService,
    @Inject(transformConfig.KEY) private readonly config: ConfigType<typeof transformConfig>,
  ) {}

  /**
   * Reverse text and return it in capitals
   *
   * Reverses `data` by user-perceived characters (accents stay on their letters, emoji and flags
   * stay whole), then upper-cases it with Shoutcloud. `""` returns `""` without calling Shoutcloud.
   */
  @Post('transform')
  @HttpCode(200)
  @ApiOperation({ operationId: 'transform' })
  @JsonOrForm()
  @ApiOkResponse({ type: TransformResponseDto, headers: answerHeaders })
  @ApiBadRequestResponse({
    description: 'The body is not parseable, or `data` is missing, not a string, not well-formed Unicode, or too long.',
    type: ErrorResponseDto,
    example: { statusCode: 400, error: 'The request body is not valid.', details: ['data must be a string'] },
  })
  @ApiUnsupportedMediaTypeResponse({
    description: 'The body is neither JSON nor a form.',
    ...error(415, 'Send the body as application/json or application/x-www-form-urlencoded.'),
  })
  @UpstreamResponses()
  transform(
    @Body(TransformRequestPipe) body: TransformRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): TransformResponseDto | Promise<TransformResponseDto> {
    return this.answer(body, reply);
  }

  /**
   * Transform many texts at once
   *
   * Each item of `data` answered as `POST /transform` would answer it, in the same order; at most
   * `BATCH_MAX_ITEMS` (default 100) items, and the body within `MAX_BODY_BYTES`. Texts not in the
   * cache go to Shoutcloud together. An item Shoutcloud cannot answer gets its stale answer, or the
   * local upper-casing where that is enabled, like `POST /transform`; if an item still has no
   * answer, the whole request fails with that item's 502, 503 or 504 (its other items are cached
   * for a retry). `X-Cache` is the worst of the items' provenances.
   */
  @Post('transform/batch')
  @HttpCode(200)
  @ApiOperation({ operationId: 'transformBatch' })
  @ApiConsumes('application/json')
  @ApiOkResponse({ type: TransformBatchResponseDto, headers: batchHeaders })
  @ApiBadRequestResponse({
    description: 'The body is not parseable, `data` is not an array or has too many items, or an item is not valid (named by its index).',
    type: ErrorResponseDto,
    example: {
      statusCode: 400,
      error: 'The request body is not valid.',
      details: ['data[1] must be a string', 'data[3] must be well-formed Unicode (no lone surrogates)'],
    },
  })
  @ApiUnsupportedMediaTypeResponse({
    description: 'The body is neither JSON nor a form (a batch is sent as JSON).',
    ...error(415, 'Send the body as application/json or application/x-www-form-urlencoded.'),
  })
  @UpstreamResponses()
  async batch(
    @Body(TransformBatchRequestPipe) body: TransformBatchRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TransformBatchResponseDto> {
    const results = await this.transformer.transform(body.data, () => requestSignal(reply, this.config.deadlineMs));
    reply.header('x-cache', X_CACHE[worstSource(results)]);
    return { data: results.map((result) => result.data) };
  }

  /**
   * The old service's routes (deprecated)
   *
   * Same behaviour as `POST /transform`, for clients of the old service; any problem with the
   * body answers 400 with its exact text: "Data was not able to be parsed from request. Please try again."
   */
  @Post(OLD_ROUTES)
  @BodyErrorSentence(OLD_BAD_REQUEST)
  @HttpCode(200)
  @ApiOperation({ deprecated: true, operationId: 'transformLegacy' })
  @ApiAlsoWithTrailingSlash()
  @JsonOrForm()
  @ApiOkResponse({ type: TransformResponseDto, headers: answerHeaders })
  @ApiBadRequestResponse({
    description: 'Any problem with the body or its content type.',
    type: ErrorResponseDto,
    example: { statusCode: 400, error: OLD_BAD_REQUEST },
  })
  @UpstreamResponses()
  legacy(
    @Body(TransformRequestPipe) body: TransformRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): TransformResponseDto | Promise<TransformResponseDto> {
    return this.answer(body, reply);
  }

  // A cache hit is answered without a promise, a signal or a deadline timer: they are made only
  // when the answer has to be looked up beyond the process.
  private answer(body: TransformRequestDto, reply: FastifyReply): TransformResponseDto | Promise<TransformResponseDto> {
    const results = this.transformer.transform([body.data], () => requestSignal(reply, this.config.deadlineMs));
    return Array.isArray(results) ? respond(results, reply) : results.then((later) => respond(later, reply));
  }
}

function respond([result]: Transformed[], reply: FastifyReply): TransformResponseDto {
  reply.header('x-cache', X_CACHE[result.source]);
  return { data: result.data };
}
