import { Injectable, type PipeTransform } from '@nestjs/common';
import { validateSync } from 'class-validator';
import { ApiError } from '../errors/api-error.js';
import { TransformRequestDto } from './dto/transform-request.dto.js';

const INVALID_BODY = 'The request body is not valid.';

/**
 * Turns a parsed body into a {@link TransformRequestDto}, checked by the DTO's own class-validator
 * rules, so Swagger and validation cannot drift. It replaces Nest's global `ValidationPipe` on
 * this hot route: the DTO has one field, so class-transformer's reflection walk and the async
 * validator are pure overhead here (measured in the README's performance section).
 */
@Injectable()
export class TransformRequestPipe implements PipeTransform<unknown, TransformRequestDto> {
  transform(body: unknown): TransformRequestDto {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError(400, INVALID_BODY, ['the body must be a JSON object or a form with a data field']);
    }
    if (!Object.hasOwn(body, 'data')) throw new ApiError(400, INVALID_BODY, ['data is required']);
    const dto = new TransformRequestDto();
    dto.data = (body as { data: string }).data;
    const errors = validateSync(dto, { stopAtFirstError: true });
    if (errors.length > 0) {
      throw new ApiError(400, INVALID_BODY, errors.flatMap((error) => Object.values(error.constraints ?? {})));
    }
    return dto;
  }
}
