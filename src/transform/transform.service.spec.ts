import { jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { ShoutcloudService, type Shout } from '../shoutcloud/shoutcloud.service.js';
import { TransformService } from './transform.service.js';

/** A Shoutcloud that answers `inMemory` from the process (or nothing there), else through `shout`. */
async function serviceWith(shout: (texts: readonly string[], signal: AbortSignal) => Promise<Shout[]>, inMemory?: Shout[]) {
  const shoutcloud = {
    fromMemory: jest.fn((_texts: readonly string[]) => inMemory),
    shout: jest.fn(shout),
  };
  const module = await Test.createTestingModule({
    providers: [TransformService, { provide: ShoutcloudService, useValue: shoutcloud }],
  }).compile();
  return { service: module.get(TransformService), shoutcloud };
}

const upstream = async (texts: readonly string[]) => texts.map((text) => ({ output: text.toUpperCase(), provenance: 'upstream' as const }));

describe('TransformService', () => {
  it('reverses every text by grapheme and asks Shoutcloud for all of them at once, with the signal it was given', async () => {
    const { service, shoutcloud } = await serviceWith(upstream);
    const signal = new AbortController().signal;
    expect(await service.transform(['e\u0301x', 'ab🇫🇷'], signal)).toEqual([
      { data: 'XE\u0301', source: 'upstream' },
      { data: '🇫🇷BA', source: 'upstream' },
    ]);
    expect(shoutcloud.shout).toHaveBeenCalledTimes(1);
    expect(shoutcloud.shout).toHaveBeenCalledWith(['xe\u0301', '🇫🇷ba'], signal);
  });

  it('answers "" itself and keeps every answer in its place', async () => {
    const { service, shoutcloud } = await serviceWith(upstream);
    expect(await service.transform(['', 'ab', '', 'cd'], new AbortController().signal)).toEqual([
      { data: '', source: 'empty' },
      { data: 'BA', source: 'upstream' },
      { data: '', source: 'empty' },
      { data: 'DC', source: 'upstream' },
    ]);
    expect(shoutcloud.shout.mock.calls[0][0]).toEqual(['ba', 'dc']);
  });

  it('passes on where each answer came from', async () => {
    const { service } = await serviceWith(async () => [{ output: 'X', provenance: 'stale' }]);
    expect(await service.transform(['x'], new AbortController().signal)).toEqual([{ data: 'X', source: 'stale' }]);
  });

  it('answers from memory synchronously, asking for the reversed texts that are not empty', async () => {
    const { service, shoutcloud } = await serviceWith(upstream, [{ output: 'BA', provenance: 'memory' }]);
    expect(service.fromMemory(['', 'ab'])).toEqual([
      { data: '', source: 'empty' },
      { data: 'BA', source: 'memory' },
    ]);
    expect(shoutcloud.fromMemory).toHaveBeenCalledWith(['ba']);
    expect(shoutcloud.shout).not.toHaveBeenCalled();
  });

  it('has nothing from memory when Shoutcloud has nothing there', async () => {
    const { service } = await serviceWith(upstream, undefined);
    expect(service.fromMemory(['ab'])).toBeUndefined();
  });

  it('rejects with what Shoutcloud rejects with', async () => {
    const reason = new Error('the client left');
    const { service } = await serviceWith(() => Promise.reject(reason));
    await expect(service.transform(['x'], new AbortController().signal)).rejects.toBe(reason);
  });
});
