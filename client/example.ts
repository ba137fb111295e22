import { createTransformApiClient, type ApiError } from './index.ts';

/** What the example found: a transformed text, where it came from, and an error answer. */
export interface ExampleResult {
  shouted: string;
  status: number;
  cache: string | null;
  rejected: ApiError;
  rejectedStatus: number;
}

/**
 * Calls a running transform-api at `baseUrl` with the typed client: one text transformed, then one
 * body the service refuses, read through the typed error.
 */
export async function runExample(baseUrl: string): Promise<ExampleResult> {
  const api = createTransformApiClient(baseUrl);

  const { data, error, response } = await api.POST('/transform', { body: { data: 'Hello, wörld! 👋' } });
  if (error) throw new Error(`transform-api answered ${error.statusCode}: ${error.error}`);
  // `data` is `{ data: string }` here, and `error` the documented error body: no casts needed.
  const shouted = data.data;

  // A caller without types (or with bad input) can still send a number; the service answers 400.
  const refused = await api.POST('/transform', { body: { data: 42 } as unknown as { data: string } });
  if (!refused.error) throw new Error('transform-api accepted a number as text');

  return { shouted, status: response.status, cache: response.headers.get('x-cache'), rejected: refused.error, rejectedStatus: refused.response.status };
}

/** The example's report, one line per call: status, then the body (and X-Cache for the 200). */
export function formatExample(result: ExampleResult): string {
  return (
    `${result.status} X-Cache: ${result.cache} ${JSON.stringify({ data: result.shouted })}\n` +
    `${result.rejectedStatus} ${JSON.stringify(result.rejected)}\n`
  );
}

// `node client/example.ts [base URL]` runs it (Node 24 strips the types itself).
if (import.meta.main) {
  const baseUrl = process.argv[2] ?? 'http://localhost:3000';
  process.stdout.write(formatExample(await runExample(baseUrl)));
}
