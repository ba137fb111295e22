import { AxiosError, AxiosHeaders, type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { Agent, type Dispatcher } from 'undici';

/**
 * Options of the pool under {@link undiciAdapter}. Keep-alive: a new TCP handshake per try would
 * cost more than Shoutcloud's own work. Idle sockets are closed after 30 s, before a typical 60 s
 * server keep-alive, to avoid racing its close.
 */
const POOL_OPTIONS: Agent.Options = { connections: 256, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 30_000 };

/** An axios adapter that owns a connection pool, closed with the application. */
export type ClosableAdapter = AxiosAdapter & { close(): Promise<void> };

/**
 * An axios adapter that sends through undici's connection pool instead of `node:http`, so
 * `HttpService` stays the upstream interface (interceptors, trace propagation, config) while a
 * miss costs far less CPU than through axios' `http` adapter and `ClientRequest`
 * (docs/performance.md). It honours what this service sets (`signal`, `validateStatus`, `maxContentLength`,
 * text request bodies, `responseType` `arraybuffer` for a `Buffer`, else UTF-8 text) and nothing
 * axios-specific beyond that (no redirects, proxies or decompression). Connection failures reject
 * with an `AxiosError` carrying undici's error code; a body over `maxContentLength`, as axios'
 * own adapter does, with `ERR_BAD_RESPONSE` and no response. `close()` closes the pool once the
 * server has drained.
 */
export function undiciAdapter(agent: Dispatcher = new Agent(POOL_OPTIONS)): ClosableAdapter {
  const adapter = async (config: InternalAxiosRequestConfig): Promise<AxiosResponse<string | Buffer>> => {
    const url = new URL(config.url ?? '', config.baseURL);
    let response: Dispatcher.ResponseData;
    try {
      response = await agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: (config.method ?? 'get').toUpperCase() as Dispatcher.HttpMethod,
        headers: headersOf(config),
        body: config.data as string | undefined,
        signal: config.signal as AbortSignal | undefined,
      });
    } catch (error) {
      throw new AxiosError((error as Error).message, (error as { code?: string }).code, config);
    }
    const bytes = await readBody(response, config);
    const axiosResponse: AxiosResponse<string | Buffer> = {
      data: config.responseType === 'arraybuffer' ? bytes : bytes.toString('utf8'),
      status: response.statusCode,
      statusText: '',
      headers: new AxiosHeaders(response.headers as Record<string, string>),
      config,
      request: undefined,
    };
    if (config.validateStatus && !config.validateStatus(response.statusCode)) {
      throw new AxiosError(`Request failed with status code ${response.statusCode}`, AxiosError.ERR_BAD_RESPONSE, config, undefined, axiosResponse);
    }
    return axiosResponse;
  };
  return Object.assign(adapter, { close: () => agent.close() });
}

function headersOf(config: InternalAxiosRequestConfig): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers.toJSON(true) as Record<string, unknown>)) {
    if (value !== undefined && value !== null && value !== false) headers[name] = String(value);
  }
  return headers;
}

/** The body, refused once longer than `maxContentLength`: at once when its length says so. */
async function readBody(response: Dispatcher.ResponseData, config: InternalAxiosRequestConfig): Promise<Buffer> {
  const { body } = response;
  const limit = config.maxContentLength !== undefined && config.maxContentLength > -1 ? config.maxContentLength : Infinity;
  const tooLong = () => {
    // Destroying an unread body emits an abort error; the refusal thrown here already says why.
    body.on('error', () => undefined);
    body.destroy();
    return new AxiosError(`maxContentLength size of ${limit} exceeded`, AxiosError.ERR_BAD_RESPONSE, config);
  };
  if (Number(response.headers['content-length']) > limit) throw tooLong();
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > limit) throw tooLong();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof AxiosError) throw error;
    throw new AxiosError((error as Error).message, (error as { code?: string }).code, config);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
}
