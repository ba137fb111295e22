import { Injectable } from '@nestjs/common';
import { Miss, ShoutcloudService, type Provenance } from '../shoutcloud/shoutcloud.service.js';
import { reverseGraphemes } from './reverse-graphemes.js';

/** One transformed text, and where its capitals came from (`empty`: nothing to upper-case). */
export interface Transformed {
  data: string;
  source: Provenance | 'empty';
}

/** The texts the in-process tier could not answer: where each goes, and what Shoutcloud is to be asked. */
export interface Missing {
  /** Every text's answer, in order, with a hole at each of {@link at}. */
  readonly answers: Transformed[];
  readonly at: number[];
  readonly misses: Miss[];
}

/** What {@link TransformService.fromMemory} could answer, and what it hands on. */
export interface Recall {
  /** Every text's answer, in order, when `missing` is undefined. */
  readonly answers: Transformed[];
  /** What is left for {@link TransformService.transform}; undefined when every text is answered. */
  readonly missing: Missing | undefined;
}

const EMPTY: Transformed = { data: '', source: 'empty' };

/**
 * Reverses each text by grapheme clusters, then has Shoutcloud upper-case them: from memory
 * first, then all the misses at once. `""` needs neither an upstream call nor a cache entry.
 */
@Injectable()
export class TransformService {
  constructor(private readonly shoutcloud: ShoutcloudService) {}

  /**
   * The fast path, asked first, synchronously: each text reversed once and answered when its
   * capitals are fresh in this process; the rest handed on, for {@link transform}.
   */
  fromMemory(texts: readonly string[]): Recall {
    const answers: Transformed[] = [];
    let missing: Missing | undefined;
    for (let i = 0; i < texts.length; i++) {
      const reversed = reverseGraphemes(texts[i]);
      if (reversed === '') {
        answers.push(EMPTY);
        continue;
      }
      const found = this.shoutcloud.fromMemory(reversed);
      if (found instanceof Miss) {
        missing ??= { answers, at: [], misses: [] };
        missing.at.push(i);
        missing.misses.push(found);
        // A hole, filled by transform().
        answers.push(undefined!);
      } else {
        answers.push({ data: found.output, source: found.provenance });
      }
    }
    return { answers, missing };
  }

  /** Every text transformed, in order; rejects with the signal's reason once it aborts. */
  async transform({ answers, at, misses }: Missing, signal: AbortSignal): Promise<Transformed[]> {
    const shouts = await this.shoutcloud.shout(misses, signal);
    for (let i = 0; i < at.length; i++) answers[at[i]] = { data: shouts[i].output, source: shouts[i].provenance };
    return answers;
  }
}
