import { IsString, ValidateNested, validateSync } from 'class-validator';
import fc from 'fast-check';
import { compileValidation } from './body-validation.js';
import { TransformRequestDto } from './dto/transform-request.dto.js';

describe('compileValidation (the DTO rules, read once)', () => {
  const compiled = compileValidation(TransformRequestDto);
  const dtoOf = (data: unknown) => Object.assign(new TransformRequestDto(), { data });
  const bySlowPath = (data: unknown) => validateSync(dtoOf(data), { stopAtFirstError: true }).flatMap((error) => Object.values(error.constraints ?? {}));

  it("gives exactly validateSync's messages for any value", () => {
    const values = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'binary', minLength: 9_990, maxLength: 10_010 }),
      fc.constantFrom('😀'.repeat(10_000), '😀'.repeat(10_001), 'a'.repeat(10_001) + '\ud800'),
      fc.anything(),
    );
    fc.assert(fc.property(values, (data) => expect(compiled(dtoOf(data))).toEqual(bySlowPath(data))));
  });

  it('refuses at start-up a rule it would not run the way class-validator does', () => {
    class Nested {
      @IsString()
      name!: string;
    }
    class WithNested {
      @ValidateNested()
      child!: Nested;
    }
    class WithEach {
      @IsString({ each: true })
      names!: string[];
    }
    expect(() => compileValidation(WithNested)).toThrow(/WithNested\.child: a nestedValidation rule/);
    expect(() => compileValidation(WithEach)).toThrow(/WithEach\.names/);
  });
});
