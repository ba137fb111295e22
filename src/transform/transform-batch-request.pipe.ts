import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from '../errors/api-error.js';
import { TransformBatchRequestDto } from './dto/transform-batch-request.dto.js';
import { TransformRequestDto } from './dto/transform-request.dto.js';
import { compileValidation } from './transform-request.pipe.js';

const INVALID_BODY = 'The request body is not valid.';

const validateBatch = compileValidation(TransformBatchRequestDto);
const validateItem = compileValidation(TransformRequestDto);

/**
 * Turns a parsed body into a {@link TransformBatchRequestDto}: the array by the batch DTO's rules,
 * each item by the rules of `/transform`'s {@link TransformRequestDto} (one source of truth, both
 * compiled once), its problems named by index: `data[3] must be a string`.
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
    const problems = validateBatch(dto);
    if (problems.length > 0) throw new ApiError(400, INVALID_BODY, problems);
    const item = new TransformRequestDto();
    dto.data.forEach((text, index) => {
      item.data = text;
      // The item rules speak of `data`; here it is `data[index]`.
      for (const problem of validateItem(item)) problems.push(problem.replace(/^data/, `data[${index}]`));
    });
    if (problems.length > 0) throw new ApiError(400, INVALID_BODY, problems);
    return dto;
  }
}
