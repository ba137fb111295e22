import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths };

/** An error answer of transform-api: `{statusCode, error, details?}`. */
export type ApiError = components['schemas']['ErrorResponseDto'];

/**
 * A client for transform-api typed from its OpenAPI document (`openapi.json`): paths, bodies,
 * answers and error answers are checked at compile time; the runtime is openapi-fetch (fetch).
 *
 * @param baseUrl where the service runs, e.g. `http://localhost:3000`
 * @param options anything else openapi-fetch takes (headers, a custom fetch, ...)
 */
export function createTransformApiClient(baseUrl: string, options: Omit<ClientOptions, 'baseUrl'> = {}): Client<paths> {
  return createClient<paths>({ ...options, baseUrl });
}
