import { IsString, ValidateBy, type ValidationOptions } from 'class-validator';
import { codePointLength } from '../../shoutcloud/code-points.js';
import { ConfiguredLimit, limitOf } from '../body-validation.js';

/** Rejects lone surrogates: they are not Unicode text and cannot be sent upstream as UTF-8. */
function IsWellFormedUnicode(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isWellFormedUnicode',
      validator: {
        // Non-strings are @IsString's to report.
        validate: (value: unknown) => typeof value !== 'string' || value.isWellFormed(),
        defaultMessage: () => 'data must be well-formed Unicode (no lone surrogates)',
      },
    },
    options,
  );
}

/** At most `MAX_INPUT_LENGTH` code points, the unit users count in (not UTF-16 units). */
function HasAtMostMaxInputLength(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'hasAtMostMaxInputLength',
      constraints: [new ConfiguredLimit('maxInputLength')],
      validator: {
        validate: (value: unknown, args) => {
          const max = limitOf(args!);
          // Every code point is one or two UTF-16 units, so short strings skip the count.
          return typeof value !== 'string' || value.length <= max || codePointLength(value) <= max;
        },
        defaultMessage: (args) => `data must be at most ${limitOf(args!)} characters (Unicode code points)`,
      },
    },
    options,
  );
}

/** The body of `POST /transform`, as JSON or as a form. */
export class TransformRequestDto {
  /**
   * The text to transform: any well-formed Unicode, at most `MAX_INPUT_LENGTH` (default 10000)
   * code points. An empty string is allowed and comes back empty.
   * @example "Hello, wörld! 👋"
   */
  @IsString({ message: 'data must be a string' })
  @IsWellFormedUnicode()
  @HasAtMostMaxInputLength()
  data!: string;
}
