import { Injectable } from '@nestjs/common';
import { ShoutcloudService, type Provenance, type Shout } from '../shoutcloud/shoutcloud.service.js';
import { reverseGraphemes } from './reverse-graphemes.js';

/** One transformed text, and where its capitals came from (`empty`: nothing to upper-case). */
export interface Transformed {
  data: string;
  source: Provenance | 'empty';
}

const EMPTY: Transformed = { data: '', source: 'empty' };
const notEmpty = (text: string) => text !== '';

/**
 * Reverses each text by grapheme clusters, then has Shoutcloud upper-case them all at once.
 * `""` needs neither an upstream call nor a cache entry.
 */
@Injectable()
export class TransformService {
  constructor(private readonly shoutcloud: ShoutcloudService) {}

  /**
   * The fast path, asked first: every text transformed, synchronously, when all their capitals
   * are fresh in this process; otherwise undefined, and the caller asks {@link transform}.
   */
  fromMemory(texts: readonly string[]): Transformed[] | undefined {
    const reversed = texts.map(reverseGraphemes);
    const shouts = this.shoutcloud.fromMemory(reversed.filter(notEmpty));
    return shouts && inOrder(reversed, shouts);
  }

  /** Every text transformed, in order; rejects with the signal's reason once it aborts. */
  async transform(texts: readonly string[], signal: AbortSignal): Promise<Transformed[]> {
    const reversed = texts.map(reverseGraphemes);
    return inOrder(reversed, await this.shoutcloud.shout(reversed.filter(notEmpty), signal));
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
