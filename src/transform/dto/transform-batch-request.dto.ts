import { IsArray, ValidateBy, type ValidationOptions } from 'class-validator';
import { ConfiguredLimit, limitOf } from '../body-validation.js';

/** At most `BATCH_MAX_ITEMS` items. */
function HasAtMostBatchMaxItems(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'hasAtMostBatchMaxItems',
      constraints: [new ConfiguredLimit('batchMaxItems')],
      validator: {
        validate: (value: unknown, args) => !Array.isArray(value) || value.length <= limitOf(args!),
        defaultMessage: (args) => `data must have at most ${limitOf(args!)} items`,
      },
    },
    options,
  );
}

/**
 * The body of `POST /transform/batch`. Each item follows the rules of `data` in
 * `POST /transform` ({@link TransformRequestDto}); a problem with an item is reported by index.
 */
export class TransformBatchRequestDto {
  /**
   * The texts to transform, at most `BATCH_MAX_ITEMS` (default 100); each any well-formed Unicode
   * of at most `MAX_INPUT_LENGTH` (default 10000) code points, `""` allowed. The whole body is
   * still capped at `MAX_BODY_BYTES`.
   * @example ["Hello, wörld! 👋", "e\u0301x", ""]
   */
  @IsArray({ message: 'data must be an array of strings' })
  @HasAtMostBatchMaxItems()
  data!: string[];
}
