import { applyDecorators, Body, Controller, HttpCode, Inject, Post, Res } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { BodyErrorSentence, JsonOnly } from '../http/body-route-config.js';
import { ERROR_SENTENCES } from '../errors/error-sentences.js';
import { TransformBatchRequestDto } from './dto/transform-batch-request.dto.js';
import { TransformBatchResponseDto } from './dto/transform-batch-response.dto.js';
import { TransformRequestDto } from './dto/transform-request.dto.js';
import { TransformResponseDto } from './dto/transform-response.dto.js';
import { requestSignal } from './request-signal.js';
import { TransformBatchRequestPipe } from './transform-batch-request.pipe.js';
import { TransformRequestPipe } from './transform-request.pipe.js';
import { transformConfig } from './transform.config.js';
import { ApiBatchAnswers, ApiLegacyAnswers, ApiTransformAnswers } from './transform.openapi.js';
import { TransformService, type Transformed } from './transform.service.js';
import { xCache } from './x-cache.js';

/**
 * An old service's route, kept for its clients: its one 400 sentence, and its own operationId so
 * that each old path has its own entry (and deep link) in /docs. `/v1/` is served by `/v1`
 * (Fastify's `ignoreTrailingSlash`) and described there: a path of its own would be a second
 * operation for one route.
 */
const LegacyRoute = (operationId: string) =>
  applyDecorators(BodyErrorSentence(ERROR_SENTENCES.legacyBadRequest), HttpCode(200), ApiOperation({ operationId }), ApiLegacyAnswers());

@ApiTags('transform')
@Controller()
export class TransformController {
  constructor(
    private readonly transformer: TransformService,
    @Inject(transformConfig.KEY) private readonly config: ConfigType<typeof transformConfig>,
  ) {}

  /**
   * Reverse a text and return it in capitals
   *
   * @remarks Reverses `data` by user-perceived characters (accents stay on their letters, emoji
   * and flags stay whole), then upper-cases it with Shoutcloud. `""` returns `""` without calling
   * Shoutcloud.
   */
  @Post('transform')
  @HttpCode(200)
  @ApiOperation({ operationId: 'transform' })
  @ApiTransformAnswers()
  transform(
    @Body(TransformRequestPipe) body: TransformRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): TransformResponseDto | Promise<TransformResponseDto> {
    return this.answer([body.data], reply, ([data]) => ({ data }));
  }

  /**
   * Transform many texts at once
   *
   * @remarks Each item of `data` answered as `POST /transform` would answer it, in the same order;
   * at most `BATCH_MAX_ITEMS` (default 100) items, the body within `MAX_BODY_BYTES`, as JSON only.
   * Texts not in the cache go to Shoutcloud together. An item Shoutcloud cannot answer gets its
   * stale answer, or the local upper-casing where that is enabled; if an item still has no
   * answer, the whole request fails with that item's 502, 503 or 504 (its other items are cached
   * for a retry). `X-Cache` is the worst of the items' answers.
   */
  @Post('transform/batch')
  @JsonOnly()
  @HttpCode(200)
  @ApiOperation({ operationId: 'transformBatch' })
  @ApiBatchAnswers()
  batch(
    @Body(TransformBatchRequestPipe) body: TransformBatchRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): TransformBatchResponseDto | Promise<TransformBatchResponseDto> {
    return this.answer(body.data, reply, (data) => ({ data }));
  }

  /**
   * The old service's route at /
   *
   * @remarks Same behaviour as `POST /transform`, for clients of the old service; any problem
   * with the body answers 400 with its exact text: "Data was not able to be parsed from request.
   * Please try again."
   * @deprecated use `POST /transform`.
   */
  @Post()
  @LegacyRoute('transformLegacyRoot')
  legacyRoot(@Body(TransformRequestPipe) body: TransformRequestDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.legacy(body, reply);
  }

  /**
   * The old service's route at /v1, also served at /v1/
   *
   * @remarks Same behaviour as `POST /transform`, for clients of the old service; any problem
   * with the body answers 400 with its exact text: "Data was not able to be parsed from request.
   * Please try again." The same route answers at `/v1/`, with the trailing slash its old clients
   * send.
   * @deprecated use `POST /transform`.
   */
  @Post('v1')
  @LegacyRoute('transformLegacyV1')
  legacyV1(@Body(TransformRequestPipe) body: TransformRequestDto, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.legacy(body, reply);
  }

  private legacy(body: TransformRequestDto, reply: FastifyReply): TransformResponseDto | Promise<TransformResponseDto> {
    return this.answer([body.data], reply, ([data]) => ({ data }));
  }

  /**
   * The request path, for one text or many: the in-process hits answer at once, with no promise,
   * signal or deadline timer; only the texts they leave go the plain async way under one signal.
   */
  private answer<T>(texts: readonly string[], reply: FastifyReply, shape: (data: string[]) => T): T | Promise<T> {
    const respond = (results: Transformed[]) => {
      reply.header('x-cache', xCache(results));
      return shape(results.map((result) => result.data));
    };
    const { answers, missing } = this.transformer.fromMemory(texts);
    if (!missing) return respond(answers);
    return this.transformer.transform(missing, requestSignal(reply, this.config.deadlineMs)).then(respond);
  }
}
