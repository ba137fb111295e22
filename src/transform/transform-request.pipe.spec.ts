import fc from 'fast-check';
import { ApiError } from '../errors/api-error.js';
import { TransformRequestPipe } from './transform-request.pipe.js';

describe('TransformRequestPipe (the DTO rules)', () => {
  const pipe = new TransformRequestPipe({ maxInputLength: 10_000, batchMaxItems: 100 });
  const detailsOf = (body: unknown) => {
    try {
      pipe.transform(body);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).getStatus()).toBe(400);
      return (error as ApiError).details;
    }
    throw new Error('expected a 400');
  };

  it.each([
    ['plain text', { data: 'hello' }],
    ['empty string', { data: '' }],
    ['extra fields are ignored', { data: 'x', other: 1 }],
    ['10000 astral code points (20000 UTF-16 units)', { data: '😀'.repeat(10_000) }],
    ['a null-prototype form object', Object.assign(Object.create(null), { data: 'form' })],
  ])('accepts %s', (_name, body) => {
    expect(pipe.transform(body).data).toBe((body as { data: string }).data);
  });

  it.each([
    ['undefined body', undefined, 'the body must be a JSON object or a form with a data field'],
    ['a string body', 'data', 'the body must be a JSON object or a form with a data field'],
    ['an array body', [{ data: 'x' }], 'the body must be a JSON object or a form with a data field'],
    ['data missing', {}, 'data is required'],
    ['data null', { data: null }, 'data must be a string'],
    ['data number', { data: 1 }, 'data must be a string'],
    ['data array (a repeated form field)', { data: ['a', 'b'] }, 'data must be a string'],
    ['lone high surrogate', { data: 'a\ud800' }, 'data must be well-formed Unicode (no lone surrogates)'],
    ['lone low surrogate', { data: '\udc00' }, 'data must be well-formed Unicode (no lone surrogates)'],
    ['10001 code points', { data: 'a'.repeat(10_001) }, 'data must be at most 10000 characters (Unicode code points)'],
  ])('refuses %s with one clear detail', (_name, body, detail) => {
    expect(detailsOf(body)).toEqual([detail]);
  });

  it('accepts every well-formed string up to the limit and refuses every ill-formed one', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        if (text.isWellFormed()) expect(pipe.transform({ data: text }).data).toBe(text);
        else expect(detailsOf({ data: text })).toEqual(['data must be well-formed Unicode (no lone surrogates)']);
      }),
    );
  });

  it('checks the limit of the app it belongs to', () => {
    const narrow = new TransformRequestPipe({ maxInputLength: 3, batchMaxItems: 100 });
    expect(narrow.transform({ data: '😀😀😀' }).data).toBe('😀😀😀');
    expect(() => narrow.transform({ data: 'abcd' })).toThrow(ApiError);
    expect(pipe.transform({ data: 'abcd' }).data).toBe('abcd');
  });
});
