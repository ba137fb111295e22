import { jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { ShoutcloudService, type Shout } from '../shoutcloud/shoutcloud.service.js';
import { TransformService } from './transform.service.js';

/** A Shoutcloud that answers from the process (`inMemory`, synchronously), else through `shout`. */
async function serviceWith(shout: (texts: readonly string[], signal: AbortSignal) => Promise<Shout[]>, inMemory?: Shout[]) {
  const shoutcloud = {
    shout: jest.fn((texts: readonly string[], signal: () => AbortSignal) => inMemory ?? shout(texts, signal())),
  };
  const module = await Test.createTestingModule({
    providers: [TransformService, { provide: ShoutcloudService, useValue: shoutcloud }],
  }).compile();
  return { service: module.get(TransformService), shout: shoutcloud.shout };
}

const upstream = async (texts: readonly string[]) => texts.map((text) => ({ output: text.toUpperCase(), provenance: 'upstream' as const }));

describe('TransformService', () => {
  it('reverses every text by grapheme and asks Shoutcloud for all of them at once, with the same signal', async () => {
    const { service, shout } = await serviceWith(upstream);
    const signal = new AbortController().signal;
    expect(await service.transform(['e\u0301x', 'ab🇫🇷'], () => signal)).toEqual([
      { data: 'XE\u0301', source: 'upstream' },
      { data: '🇫🇷BA', source: 'upstream' },
    ]);
    expect(shout).toHaveBeenCalledTimes(1);
    expect(shout.mock.calls[0][0]).toEqual(['xe\u0301', '🇫🇷ba']);
    expect(shout.mock.calls[0][1]()).toBe(signal);
  });

  it('answers "" itself and keeps every answer in its place', async () => {
    const { service, shout } = await serviceWith(upstream);
    expect(await service.transform(['', 'ab', '', 'cd'], () => new AbortController().signal)).toEqual([
      { data: '', source: 'empty' },
      { data: 'BA', source: 'upstream' },
      { data: '', source: 'empty' },
      { data: 'DC', source: 'upstream' },
    ]);
    expect(shout.mock.calls[0][0]).toEqual(['ba', 'dc']);
  });

  it('passes on where each answer came from', async () => {
    const { service } = await serviceWith(async () => [{ output: 'X', provenance: 'stale' }]);
    expect(await service.transform(['x'], () => new AbortController().signal)).toEqual([{ data: 'X', source: 'stale' }]);
  });

  it('answers synchronously from the in-process cache, without making a signal', async () => {
    const { service, shout } = await serviceWith(upstream, [{ output: 'BA', provenance: 'memory' }]);
    const signal = jest.fn(() => new AbortController().signal);
    expect(service.transform(['', 'ab'], signal)).toEqual([
      { data: '', source: 'empty' },
      { data: 'BA', source: 'memory' },
    ]);
    expect(shout).toHaveBeenCalledWith(['ba'], signal);
    expect(signal).not.toHaveBeenCalled();
  });

  it('rejects with what Shoutcloud rejects with', async () => {
    const reason = new Error('the client left');
    const { service } = await serviceWith(() => Promise.reject(reason));
    await expect(service.transform(['x'], () => new AbortController().signal)).rejects.toBe(reason);
  });
});
