import { Injectable, type PipeTransform } from '@nestjs/common';
import { validateSync } from 'class-validator';
import { ApiError } from '../errors/api-error.js';
import { TransformBatchRequestDto } from './dto/transform-batch-request.dto.js';
import { TransformRequestDto } from './dto/transform-request.dto.js';

const INVALID_BODY = 'The request body is not valid.';

/**
 * Turns a parsed body into a {@link TransformBatchRequestDto}: the array by the batch DTO's rules,
 * each item by the rules of `/transform`'s {@link TransformRequestDto} (one source of truth), its
 * problems named by index: `data[3] must be a string`.
 */
@Injectable()
export class TransformBatchRequestPipe implements PipeTransform<unknown, TransformBatchRequestDto> {
  transform(body: unknown): TransformBatchRequestDto {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError(400, INVALID_BODY, ['the body must be a JSON object with a data field']);
    }
    if (!Object.hasOwn(body, 'data')) throw new ApiError(400, INVALID_BODY, ['data is required']);
    const dto = new TransformBatchRequestDto();
    dto.data = (body as { data: string[] }).data;
    const errors = validateSync(dto, { stopAtFirstError: true });
    if (errors.length > 0) {
      throw new ApiError(400, INVALID_BODY, errors.flatMap((error) => Object.values(error.constraints ?? {})));
    }
    const details: string[] = [];
    const item = new TransformRequestDto();
    dto.data.forEach((text, index) => {
      item.data = text;
      for (const error of validateSync(item, { stopAtFirstError: true })) {
        // The item rules speak of `data`; here it is `data[index]`.
        for (const message of Object.values(error.constraints ?? {})) details.push(message.replace(/^data/, `data[${index}]`));
      }
    });
    if (details.length > 0) throw new ApiError(400, INVALID_BODY, details);
    return dto;
  }
}
