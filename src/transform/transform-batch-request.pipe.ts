import { Inject, Injectable, type PipeTransform } from '@nestjs/common';
import { compileValidation, dataOf, invalidBody, type InputLimits } from './body-validation.js';
import { TransformBatchRequestDto } from './dto/transform-batch-request.dto.js';
import { TransformRequestDto } from './dto/transform-request.dto.js';
import { transformConfig } from './transform.config.js';

/**
 * Turns a parsed body into a {@link TransformBatchRequestDto}: the array by the batch DTO's rules,
 * each item by the rules of `/transform`'s {@link TransformRequestDto} (one source of truth, both
 * compiled once, with this app's limits), its problems named by index: `data[3] must be a string`.
 */
@Injectable()
export class TransformBatchRequestPipe implements PipeTransform<unknown, TransformBatchRequestDto> {
  private readonly validateBatch: (dto: TransformBatchRequestDto) => string[];
  private readonly validateItem: (dto: TransformRequestDto) => string[];

  constructor(@Inject(transformConfig.KEY) limits: InputLimits) {
    this.validateBatch = compileValidation(TransformBatchRequestDto, limits);
    this.validateItem = compileValidation(TransformRequestDto, limits);
  }

  transform(body: unknown): TransformBatchRequestDto {
    const dto = new TransformBatchRequestDto();
    dto.data = dataOf(body, 'a JSON object') as string[];
    const problems = this.validateBatch(dto);
    if (problems.length > 0) throw invalidBody(problems);
    const item = new TransformRequestDto();
    dto.data.forEach((text, index) => {
      item.data = text;
      // The item rules speak of `data`; here it is `data[index]`.
      for (const problem of this.validateItem(item)) problems.push(problem.replace(/^data/, `data[${index}]`));
    });
    if (problems.length > 0) throw invalidBody(problems);
    return dto;
  }
}
