import { Injectable } from '@nestjs/common';
import { ShoutcloudService, type Provenance, type Shout } from '../shoutcloud/shoutcloud.service.js';
import { reverseGraphemes } from './reverse-graphemes.js';

/** One transformed text, and where its capitals came from (`empty`: nothing to upper-case). */
export interface Transformed {
  data: string;
  source: Provenance | 'empty';
}

const EMPTY: Transformed = { data: '', source: 'empty' };

@Injectable()
export class TransformService {
  constructor(private readonly shoutcloud: ShoutcloudService) {}

  /**
   * Reverses each text by grapheme clusters, then upper-cases them all through Shoutcloud in one
   * request. Answers in order: synchronously when every answer is in the in-process cache, else
   * as a promise that rejects with the signal's reason once it aborts.
   * @param signal called once, and only when a text has to be looked up beyond the process.
   */
  transform(texts: readonly string[], signal: () => AbortSignal): Transformed[] | Promise<Transformed[]> {
    const reversed = texts.map(reverseGraphemes);
    // "" needs neither an upstream call nor a cache entry.
    const wanted = reversed.filter((text) => text !== '');
    const shouts = this.shoutcloud.shout(wanted, signal);
    return Array.isArray(shouts) ? inOrder(reversed, shouts) : shouts.then((later) => inOrder(reversed, later));
  }
}

/** The transformed texts in order, from the shouts of the non-empty ones. */
function inOrder(reversed: readonly string[], shouts: readonly Shout[]): Transformed[] {
  let next = 0;
  return reversed.map((text) => {
    if (text === '') return EMPTY;
    const { output, provenance } = shouts[next++];
    return { data: output, source: provenance };
  });
}
