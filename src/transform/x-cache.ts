import type { Transformed } from './transform.service.js';

/** The `X-Cache` word for where an answer came from. */
const WORDS: Record<Transformed['source'], string> = {
  memory: 'HIT',
  redis: 'HIT',
  upstream: 'MISS',
  stale: 'STALE',
  fallback: 'FALLBACK',
  empty: 'BYPASS',
};

// A batch answers one header, and it never claims better than its weakest item.
const WORST_FIRST: Transformed['source'][] = ['fallback', 'stale', 'upstream', 'redis', 'memory', 'empty'];
const RANK = new Map(WORST_FIRST.map((source, rank) => [source, rank]));

/** The `X-Cache` of an answer: its one text's word, or the worst of a batch's items. */
export function xCache(results: readonly Transformed[]): string {
  if (results.length === 1) return WORDS[results[0].source];
  let worst = WORST_FIRST.length - 1;
  for (const { source } of results) worst = Math.min(worst, RANK.get(source)!);
  return WORDS[WORST_FIRST[worst]];
}

const MEANINGS =
  'HIT (a cache), MISS (Shoutcloud just now), STALE (an expired answer, served because Shoutcloud gave none), ' +
  'FALLBACK (local upper-casing, when enabled) or BYPASS ("" needs none)';
const SCHEMA = { type: 'string', enum: [...new Set(Object.values(WORDS))] };

/** The header as the OpenAPI document describes it, for one text and for a batch. */
export const X_CACHE_HEADER = { description: `Where the capitals came from: ${MEANINGS}.`, schema: SCHEMA };
export const BATCH_X_CACHE_HEADER = {
  description: `The worst of the items' answers, in this order: ${[...new Set(WORST_FIRST.map((source) => WORDS[source]))].join(', ')}. Words: ${MEANINGS}.`,
  schema: SCHEMA,
};
