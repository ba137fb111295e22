import { Inject, Injectable, type PipeTransform } from '@nestjs/common';
import { compileValidation, dataOf, invalidBody, type InputLimits } from './body-validation.js';
import { TransformRequestDto } from './dto/transform-request.dto.js';
import { transformConfig } from './transform.config.js';

/**
 * Turns a parsed body into a {@link TransformRequestDto}, checked by the DTO's own class-validator
 * rules (compiled once, {@link compileValidation}), so Swagger and validation cannot drift. It
 * replaces Nest's global `ValidationPipe` on this hot route: the DTO has one field, so
 * class-transformer's reflection walk and the async validator are pure overhead here. The limits
 * are this app's (`MAX_INPUT_LENGTH`).
 */
@Injectable()
export class TransformRequestPipe implements PipeTransform<unknown, TransformRequestDto> {
  private readonly validate: (dto: TransformRequestDto) => string[];

  constructor(@Inject(transformConfig.KEY) limits: InputLimits) {
    this.validate = compileValidation(TransformRequestDto, limits);
  }

  transform(body: unknown): TransformRequestDto {
    const dto = new TransformRequestDto();
    dto.data = dataOf(body, 'a JSON object or a form') as string;
    const problems = this.validate(dto);
    if (problems.length > 0) throw invalidBody(problems);
    return dto;
  }
}
