import { jest } from '@jest/globals';
import type { ConfigType } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { ShoutcloudCache, type CacheLookup } from './shoutcloud.cache.js';
import { ShoutcloudClient } from './shoutcloud.client.js';
import { shoutcloudConfig } from './shoutcloud.config.js';
import { ClientGoneError, ShoutcloudUnavailableError } from './shoutcloud.errors.js';
import { ShoutcloudService } from './shoutcloud.service.js';

const baseConfig = { deadlineMs: 1000, fallback: 'off' } as ConfigType<typeof shoutcloudConfig>;

/** The service with its collaborators replaced: a scripted upstream and an in-memory cache. */
async function serviceWith(options: { shout: (text: string, signal: AbortSignal) => Promise<string>; memory?: Map<string, CacheLookup>; fallback?: 'off' | 'local' }) {
  const memory = options.memory ?? new Map<string, CacheLookup>();
  const shout = jest.fn(options.shout);
  const cache = {
    getFromMemory: async (text: string) => memory.get(text),
    getFromShared: async () => undefined,
    set: async (text: string, output: string) => void memory.set(text, { output, fresh: true, tier: 'memory' }),
  };
  const module = await Test.createTestingModule({
    providers: [
      ShoutcloudService,
      { provide: ShoutcloudClient, useValue: { shout } },
      { provide: ShoutcloudCache, useValue: cache },
      { provide: shoutcloudConfig.KEY, useValue: { ...baseConfig, fallback: options.fallback ?? 'off' } },
    ],
  }).compile();
  return { service: module.get(ShoutcloudService), shout, memory };
}

const later = <T>(value: T, ms = 20) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('ShoutcloudService', () => {
  it('serves a fresh entry without calling Shoutcloud', async () => {
    const memory = new Map([['abc', { output: 'ABC', fresh: true, tier: 'memory' as const }]]);
    const { service, shout } = await serviceWith({ shout: async () => 'never', memory });
    expect(await service.upperCase('abc', () => 'abc')).toEqual({ output: 'ABC', source: 'HIT', tier: 'memory' });
    expect(shout).not.toHaveBeenCalled();
  });

  it('makes one upstream call for concurrent misses of one input, and caches it', async () => {
    const { service, shout } = await serviceWith({ shout: (text) => later(text.toUpperCase()) });
    const prepare = jest.fn(() => 'herd');
    const answers = await Promise.all(Array.from({ length: 40 }, () => service.upperCase('herd', prepare)));
    expect(new Set(answers.map((answer) => answer.output))).toEqual(new Set(['HERD']));
    expect(answers.every((answer) => answer.source === 'MISS')).toBe(true);
    expect(shout).toHaveBeenCalledTimes(1);
    expect((await service.upperCase('herd', prepare)).source).toBe('HIT');
    // The text to send is prepared once per miss, never on a hit.
    expect(prepare).toHaveBeenCalledTimes(1);
  });

  it('serves a stale entry when Shoutcloud fails, before any fallback', async () => {
    const memory = new Map([['old', { output: 'OLD', fresh: false, tier: 'memory' as const }]]);
    const { service } = await serviceWith({
      shout: async () => Promise.reject(new ShoutcloudUnavailableError('down', 1)),
      memory,
      fallback: 'local',
    });
    expect(await service.upperCase('old', () => 'old')).toEqual({ output: 'OLD', source: 'STALE', tier: 'memory' });
  });

  it('falls back to local upper-casing only when asked to, and does not cache it', async () => {
    const failing = async () => Promise.reject(new ShoutcloudUnavailableError('down', 1));
    const off = await serviceWith({ shout: failing });
    await expect(off.service.upperCase('straße', () => 'straße')).rejects.toBeInstanceOf(ShoutcloudUnavailableError);
    const local = await serviceWith({ shout: failing, fallback: 'local' });
    expect(await local.service.upperCase('straße', () => 'straße')).toEqual({ output: 'STRAßE', source: 'FALLBACK' });
    expect(local.memory.size).toBe(0);
  });

  it('rethrows errors that are not Shoutcloud failures', async () => {
    const { service } = await serviceWith({ shout: async () => Promise.reject(new TypeError('bug')), fallback: 'local' });
    await expect(service.upperCase('x', () => 'x')).rejects.toBeInstanceOf(TypeError);
  });

  it('aborts the upstream call once every waiting client has gone', async () => {
    let upstreamSignal: AbortSignal | undefined;
    const { service } = await serviceWith({
      shout: (_text, signal) => {
        upstreamSignal = signal;
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      },
    });
    const a = new AbortController();
    const b = new AbortController();
    const first = service.upperCase('x', () => 'x', () => a.signal);
    const second = service.upperCase('x', () => 'x', () => b.signal);
    await later(undefined, 5);
    a.abort();
    await expect(first).rejects.toBeInstanceOf(ClientGoneError);
    expect(upstreamSignal?.aborted).toBe(false);
    b.abort();
    await expect(second).rejects.toBeInstanceOf(ClientGoneError);
    expect(upstreamSignal?.aborted).toBe(true);
  });

  it('reports every answer to its listeners', async () => {
    const { service } = await serviceWith({ shout: async (text) => text.toUpperCase() });
    const seen: string[] = [];
    service.onAnswer((answer) => seen.push(answer.source));
    await service.upperCase('a', () => 'a');
    await service.upperCase('a', () => 'a');
    expect(seen).toEqual(['MISS', 'HIT']);
  });
});
