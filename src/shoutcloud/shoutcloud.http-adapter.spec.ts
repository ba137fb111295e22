import axios, { AxiosError } from 'axios';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { undiciAdapter } from './shoutcloud.http-adapter.js';

/** A loopback server that echoes what it received, or answers `size` bytes for `/big?size=`. */
async function echoServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/big') {
        const body = 'x'.repeat(Number(url.searchParams.get('size')));
        if (url.searchParams.get('framing') === 'length') return res.end(body);
        // Chunked: the length is known only once the body has been read.
        res.write(body.slice(0, 1));
        return res.end(body.slice(1));
      }
      if (url.pathname === '/bytes') return res.end(Buffer.from([0x41, 0xff, 0x42]));
      if (url.pathname === '/hang') return;
      res.writeHead(Number(url.searchParams.get('status') ?? 200), { 'Content-Type': 'APPLICATION/JSON', 'X-Seen': 'yes' });
      res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('undiciAdapter', () => {
  let server: Server;
  let url: string;
  let agent: Agent;
  const client = () =>
    axios.create({
      adapter: undiciAdapter(agent),
      headers: { 'Content-Type': 'application/json' },
      responseType: 'text',
      transformRequest: [(data: string) => data],
      transformResponse: [(data: string) => data],
      validateStatus: () => true,
      maxContentLength: 1024,
    });

  beforeAll(async () => ({ server, url } = await echoServer()));
  beforeEach(() => (agent = new Agent()));
  afterEach(() => agent.close());
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('sends the method, path, query, headers and text body, and answers status, headers and text', async () => {
    const response = await client().post<string>(`${url}/V1/SHOUT?q=1`, '{"INPUT":"é"}', { headers: { traceparent: 'tp' } });
    expect(response.status).toBe(200);
    expect(response.headers['x-seen']).toBe('yes');
    const seen = JSON.parse(response.data) as { method: string; path: string; headers: Record<string, string>; body: string };
    expect(seen).toMatchObject({ method: 'POST', path: '/V1/SHOUT?q=1', body: '{"INPUT":"é"}' });
    expect(seen.headers).toMatchObject({ 'content-type': 'application/json', traceparent: 'tp' });
  });

  it('applies validateStatus', async () => {
    const strict = axios.create({ adapter: undiciAdapter(agent), validateStatus: (status) => status < 500 });
    await expect(strict.get(`${url}/?status=503`)).rejects.toMatchObject({ code: AxiosError.ERR_BAD_RESPONSE, response: { status: 503 } });
  });

  it.each([
    ['announced by Content-Length', 'length'],
    ['sent in chunks', 'chunked'],
  ])('refuses a body over maxContentLength, %s, with ERR_BAD_RESPONSE and no response', async (_name, framing) => {
    expect((await client().get<string>(`${url}/big?size=1024&framing=${framing}`)).data).toHaveLength(1024);
    const refusal = await client()
      .get(`${url}/big?size=1025&framing=${framing}`)
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ message: 'maxContentLength size of 1024 exceeded', code: AxiosError.ERR_BAD_RESPONSE });
    expect((refusal as AxiosError).response).toBeUndefined();
    // The refused connection is not reused for the next request.
    expect((await client().get<string>(`${url}/big?size=10&framing=${framing}`)).data).toBe('x'.repeat(10));
  });

  it("answers the body's bytes for responseType arraybuffer, strict or not, and text otherwise", async () => {
    const bytes = await client().get<Buffer>(`${url}/bytes`, { responseType: 'arraybuffer' });
    expect(Buffer.isBuffer(bytes.data)).toBe(true);
    expect(bytes.data).toEqual(Buffer.from([0x41, 0xff, 0x42]));
    expect((await client().get<string>(`${url}/bytes`)).data).toBe('A\uFFFDB');
  });

  it('rejects with an AxiosError carrying the connection error code', async () => {
    const closed = await echoServer();
    await new Promise((resolve) => closed.server.close(resolve));
    await expect(client().get(closed.url)).rejects.toMatchObject({ name: 'AxiosError', code: 'ECONNREFUSED' });
  });

  it('gives up when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = client().get(`${url}/hang`, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AxiosError);
  });
});
