import { jest } from '@jest/globals';
import { SharedRender } from './shared-render.js';

/** A render that finishes only when told, counting how often it was asked. */
function controlledRender() {
  const finishers: Array<(text: string) => void> = [];
  const render = jest.fn(() => new Promise<string>((resolve) => finishers.push(resolve)));
  return { render, finish: (text: string) => finishers.shift()!(text) };
}

describe('SharedRender', () => {
  afterEach(() => jest.useRealTimers());

  it('gives every scrape that asks while one renders that same rendering', async () => {
    const { render, finish } = controlledRender();
    const shared = new SharedRender(render, 0);
    const scrapes = Array.from({ length: 16 }, () => shared.text());
    finish('one');
    await expect(Promise.all(scrapes)).resolves.toEqual(Array(16).fill('one'));
    expect(render).toHaveBeenCalledTimes(1);
  });

  it('reuses a finished rendering for reuseMs, then renders again', async () => {
    jest.useFakeTimers({ now: 0 });
    let renders = 0;
    const shared = new SharedRender(async () => `render ${++renders}`, 1000);
    await expect(shared.text()).resolves.toBe('render 1');
    jest.setSystemTime(999);
    await expect(shared.text()).resolves.toBe('render 1');
    jest.setSystemTime(1000);
    await expect(shared.text()).resolves.toBe('render 2');
  });

  it('with reuseMs 0, renders again for each scrape that comes after a rendering finished', async () => {
    let renders = 0;
    const shared = new SharedRender(async () => `render ${++renders}`, 0);
    await shared.text();
    await expect(shared.text()).resolves.toBe('render 2');
  });

  it('hands a failed rendering to the scrapes that waited for it, and renders again for the next', async () => {
    let renders = 0;
    const shared = new SharedRender(async () => {
      if (++renders === 1) throw new Error('collect failed');
      return 'fine';
    }, 1000);
    await expect(Promise.all([shared.text(), shared.text()])).rejects.toThrow('collect failed');
    await expect(shared.text()).resolves.toBe('fine');
    expect(renders).toBe(2);
  });
});
