import { jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { ShoutKey } from '../shoutcloud/shoutcloud.cache.js';
import { Miss, ShoutcloudService, type Shout } from '../shoutcloud/shoutcloud.service.js';
import { TransformService } from './transform.service.js';

/** A Shoutcloud that answers the reversed texts in `inMemory` from the process, the rest through `shout`. */
async function serviceWith(shout: (misses: readonly Miss[], signal: AbortSignal) => Promise<Shout[]>, inMemory: Record<string, string> = {}) {
  const shoutcloud = {
    fromMemory: jest.fn((text: string): Shout | Miss =>
      text in inMemory ? { output: inMemory[text], provenance: 'memory' } : new Miss(new ShoutKey(text), undefined),
    ),
    shout: jest.fn(shout),
  };
  const module = await Test.createTestingModule({
    providers: [TransformService, { provide: ShoutcloudService, useValue: shoutcloud }],
  }).compile();
  return { service: module.get(TransformService), shoutcloud };
}

const upstream = async (misses: readonly Miss[]) => misses.map(({ key }) => ({ output: key.text.toUpperCase(), provenance: 'upstream' as const }));
const never = new AbortController().signal;

describe('TransformService', () => {
  it('reverses each text once, answers what memory holds, and asks Shoutcloud for the rest at once with the signal', async () => {
    const { service, shoutcloud } = await serviceWith(upstream, { ba: 'BA' });
    const signal = new AbortController().signal;
    const { answers, missing } = service.fromMemory(['e\u0301x', 'ab', 'cd🇫🇷']);
    expect(shoutcloud.fromMemory.mock.calls).toEqual([['xe\u0301'], ['ba'], ['🇫🇷dc']]);
    expect(answers[1]).toEqual({ data: 'BA', source: 'memory' });
    expect(missing?.misses.map(({ key }) => key.text)).toEqual(['xe\u0301', '🇫🇷dc']);
    expect(await service.transform(missing!, signal)).toEqual([
      { data: 'XE\u0301', source: 'upstream' },
      { data: 'BA', source: 'memory' },
      { data: '🇫🇷DC', source: 'upstream' },
    ]);
    // The misses handed on are the ones the in-process lookup made: nothing is looked up twice.
    expect(shoutcloud.fromMemory).toHaveBeenCalledTimes(3);
    expect(shoutcloud.shout).toHaveBeenCalledTimes(1);
    expect(shoutcloud.shout).toHaveBeenCalledWith(missing!.misses, signal);
  });

  it('answers "" itself and keeps every answer in its place', async () => {
    const { service, shoutcloud } = await serviceWith(upstream);
    const { missing } = service.fromMemory(['', 'ab', '', 'cd']);
    expect(await service.transform(missing!, never)).toEqual([
      { data: '', source: 'empty' },
      { data: 'BA', source: 'upstream' },
      { data: '', source: 'empty' },
      { data: 'DC', source: 'upstream' },
    ]);
    expect(shoutcloud.fromMemory.mock.calls).toEqual([['ba'], ['dc']]);
  });

  it('hands nothing on when memory answers every text', async () => {
    const { service, shoutcloud } = await serviceWith(upstream, { ba: 'BA' });
    expect(service.fromMemory(['', 'ab'])).toEqual({
      answers: [
        { data: '', source: 'empty' },
        { data: 'BA', source: 'memory' },
      ],
      missing: undefined,
    });
    expect(service.fromMemory([])).toEqual({ answers: [], missing: undefined });
    expect(shoutcloud.shout).not.toHaveBeenCalled();
  });

  it('passes on where each answer came from', async () => {
    const { service } = await serviceWith(async () => [{ output: 'X', provenance: 'stale' }]);
    expect(await service.transform(service.fromMemory(['x']).missing!, never)).toEqual([{ data: 'X', source: 'stale' }]);
  });

  it('rejects with what Shoutcloud rejects with', async () => {
    const reason = new Error('the client left');
    const { service } = await serviceWith(() => Promise.reject(reason));
    await expect(service.transform(service.fromMemory(['x']).missing!, never)).rejects.toBe(reason);
  });
});
