import { Injectable } from '@nestjs/common';
import { ShoutcloudService, type Provenance } from '../shoutcloud/shoutcloud.service.js';
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
   * request. Answers in order; rejects with `signal.reason` once the signal aborts.
   */
  async transform(texts: readonly string[], signal: AbortSignal): Promise<Transformed[]> {
    const reversed = texts.map(reverseGraphemes);
    // "" needs neither an upstream call nor a cache entry.
    const shouts = await this.shoutcloud.shout(reversed.filter((text) => text !== ''), signal);
    let next = 0;
    return reversed.map((text) => {
      if (text === '') return EMPTY;
      const { output, provenance } = shouts[next++];
      return { data: output, source: provenance };
    });
  }
}
