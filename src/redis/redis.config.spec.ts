import { parseNodeList } from './redis.config.js';

describe('parseNodeList', () => {
  it.each([
    ['sentinel-0:26379', [{ host: 'sentinel-0', port: 26379 }]],
    [' a:1 , b.example:2 ', [{ host: 'a', port: 1 }, { host: 'b.example', port: 2 }]],
    ['[fd00::2]:26379,127.0.0.1:5', [{ host: 'fd00::2', port: 26379 }, { host: '127.0.0.1', port: 5 }]],
  ])('%s', (list, nodes) => {
    expect(parseNodeList(list)).toEqual(nodes);
  });
});
