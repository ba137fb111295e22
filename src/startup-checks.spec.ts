import { readFileSync } from 'node:fs';
import { addressInUseProblem, nodeVersionProblem, REQUIRED_NODE_MAJOR } from './startup-checks.js';

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

describe('nodeVersionProblem', () => {
  it.each(['v24.0.0', 'v24.21.0', '24.21.0'])('accepts %s', (version) => {
    expect(nodeVersionProblem('transform-api', version)).toBeUndefined();
  });

  it.each(['v20.11.0', 'v22.12.0', 'v25.0.0', 'v2.4.0', 'nonsense'])('refuses %s in one line naming Node 24 and .nvmrc', (version) => {
    const problem = nodeVersionProblem('transform-api', version);
    expect(problem).toMatch(/^transform-api: needs Node 24 \(the exact version is in \.nvmrc\), and this is Node /);
    expect(problem).toContain(version);
    expect(problem).not.toContain('\n');
  });

  it('asks for the major that .nvmrc, engines and the Dockerfile name', () => {
    expect(read('.nvmrc').trim().split('.')[0]).toBe(String(REQUIRED_NODE_MAJOR));
    expect((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node).toBe(`${REQUIRED_NODE_MAJOR}.x`);
    expect(read('Dockerfile')).toMatch(new RegExp(`^ARG NODE_IMAGE=node:${REQUIRED_NODE_MAJOR}\\.`, 'm'));
  });
});

describe('addressInUseProblem', () => {
  const address = { host: '127.0.0.1', port: 3000, portVariable: 'PORT' };

  it('names the port, the address and the variable for EADDRINUSE, in one line', () => {
    const taken = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:3000'), { code: 'EADDRINUSE' });
    expect(addressInUseProblem('transform-api', taken, address)).toBe(
      'transform-api: port 3000 on 127.0.0.1 is already in use (another copy running?); stop it, or set PORT to a free port',
    );
  });

  it.each([new Error('boom'), Object.assign(new Error('denied'), { code: 'EACCES' }), undefined])('leaves any other error to its caller (%p)', (error) => {
    expect(addressInUseProblem('transform-api', error, address)).toBeUndefined();
  });
});
