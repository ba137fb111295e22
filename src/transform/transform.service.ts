import { Injectable } from '@nestjs/common';
import { ShoutcloudService, type Shouted } from '../shoutcloud/shoutcloud.service.js';
import { reverseGraphemes } from './reverse-graphemes.js';

export interface Transformed {
  data: string;
  /** The `X-Cache` value: where the capitals came from. */
  cache: Shouted['source'] | 'BYPASS';
}

@Injectable()
export class TransformService {
  constructor(private readonly shoutcloud: ShoutcloudService) {}

  /** Reverses `text` by grapheme clusters, then upper-cases it through Shoutcloud. */
  async transform(text: string, clientGone?: () => AbortSignal): Promise<Transformed> {
    // Nothing to upper-case: no reason to spend an upstream call or a cache entry.
    if (text === '') return { data: '', cache: 'BYPASS' };
    const shouted = await this.shoutcloud.upperCase(text, () => reverseGraphemes(text), clientGone);
    return { data: shouted.output, cache: shouted.source };
  }
}
