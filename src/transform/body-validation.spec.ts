import { IsNotEmpty, IsString, ValidateNested, validateSync } from 'class-validator';
import fc from 'fast-check';
import { compileValidation } from './body-validation.js';
import { TransformRequestDto } from './dto/transform-request.dto.js';

class Plain {
  @IsString({ message: 'name must be a string' })
  @IsNotEmpty({ message: 'name must not be empty' })
  name!: unknown;
}

describe('compileValidation (the DTO rules, read once)', () => {
  const values = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: 'binary', minLength: 9_990, maxLength: 10_010 }),
    fc.constantFrom('😀'.repeat(10_000), '😀'.repeat(10_001), 'a'.repeat(10_001) + '\ud800'),
    fc.anything(),
  );

  it("gives exactly validateSync's messages for any value", () => {
    const compiled = compileValidation(Plain);
    const of = (name: unknown) => Object.assign(new Plain(), { name });
    const bySlowPath = (name: unknown) => validateSync(of(name), { stopAtFirstError: true }).flatMap((error) => Object.values(error.constraints ?? {}));
    fc.assert(fc.property(values, (name) => expect(compiled(of(name))).toEqual(bySlowPath(name))));
  });

  it.each([10_000, 3])("runs the request DTO's rules with the limits it is compiled with (MAX_INPUT_LENGTH %i)", (max) => {
    const compiled = compileValidation(TransformRequestDto, { maxInputLength: max, batchMaxItems: 100 });
    const expected = (data: unknown) => {
      // class-validator runs a property's rules from the last decorator up.
      if (typeof data !== 'string') return ['data must be a string'];
      if ([...data].length > max) return [`data must be at most ${max} characters (Unicode code points)`];
      if (!data.isWellFormed()) return ['data must be well-formed Unicode (no lone surrogates)'];
      return [];
    };
    fc.assert(fc.property(values, (data) => expect(compiled(Object.assign(new TransformRequestDto(), { data }))).toEqual(expected(data))));
  });

  it('refuses at start-up a rule it would not run the way class-validator does, or a limit it was not given', () => {
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
    expect(() => compileValidation(TransformRequestDto)).toThrow(/TransformRequestDto\.data: a rule checks maxInputLength/);
  });
});
