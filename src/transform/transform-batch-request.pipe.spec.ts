import { ApiError } from '../errors/api-error.js';
import { TransformBatchRequestPipe } from './transform-batch-request.pipe.js';

describe('TransformBatchRequestPipe (the batch DTO and the item rules)', () => {
  const pipe = new TransformBatchRequestPipe({ maxInputLength: 10_000, batchMaxItems: 100 });
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
    ['texts', { data: ['hello', 'e\u0301x', '😀'] }],
    ['empty strings', { data: ['', ''] }],
    ['no items', { data: [] }],
    ['100 items', { data: Array(100).fill('x') }],
    ['extra fields', { data: ['x'], other: 1 }],
  ])('accepts %s', (_name, body) => {
    expect(pipe.transform(body).data).toEqual(body.data);
  });

  it.each([
    ['a string body', 'data', ['the body must be a JSON object with a data field']],
    ['an array body', [['x']], ['the body must be a JSON object with a data field']],
    ['data missing', {}, ['data is required']],
    ['data a string', { data: 'x' }, ['data must be an array of strings']],
    ['data null', { data: null }, ['data must be an array of strings']],
    ['101 items', { data: Array(101).fill('x') }, ['data must have at most 100 items']],
    ['a number item', { data: ['ok', 3] }, ['data[1] must be a string']],
    ['a null item', { data: [null] }, ['data[0] must be a string']],
    ['a lone surrogate', { data: ['a', 'b', 'c', 'x\ud800'] }, ['data[3] must be well-formed Unicode (no lone surrogates)']],
    [
      'several bad items, each by index',
      { data: [1, 'ok', 'a'.repeat(10_001), ['nested']] },
      ['data[0] must be a string', 'data[2] must be at most 10000 characters (Unicode code points)', 'data[3] must be a string'],
    ],
  ])('refuses %s', (_name, body, details) => {
    expect(detailsOf(body)).toEqual(details);
  });
});
