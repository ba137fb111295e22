import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { goToUpper } from '../shoutcloud/go-to-upper.js';

/**
 * A fault the server plays instead of (or before) a normal answer. Faults queue up: each one
 * applies to its next `times` requests (default: every request until cleared).
 */
export interface ShoutcloudFault {
  /** Delay before answering, in ms. */
  latencyMs?: number;
  /** Delay only every `n`-th request this fault applies to (the `n`-th, `2n`-th, …), by `latencyMs`. */
  slowEvery?: { n: number; latencyMs: number };
  /**
   * `full`: upper-case with JavaScript's full case mapping (`"ß"` → `"SS"`), as an upstream that
   * is not Go would; the answer can then have more code points than the question.
   */
  caseMapping?: 'full';
  /** Lie about the answer: `rotate` moves its last code point to the front, `nfc` normalizes it. */
  lie?: 'rotate' | 'nfc';
  /** Extra delay for each byte of the request body, in µs: an upstream whose time grows with size. */
  latencyPerByteUs?: number;
  /** Answer with this HTTP status and a plain-text body. */
  status?: number;
  /** With `status`: a `Retry-After` header, as given (seconds or an HTTP-date). */
  retryAfter?: string;
  /**
   * Answer 200 with an unusable body: `html` (a hosting error page), `not-json`, `no-output`,
   * `invalid-utf8` (the normal reply with a byte that is never UTF-8, 0xFF, at the end of OUTPUT).
   */
  body?: 'html' | 'not-json' | 'no-output' | 'invalid-utf8';
  /**
   * Append this many `X`s to OUTPUT, so that it has more code points than INPUT: e.g. 100,000 for
   * an answer that does not fit its question, 2,000,000 for a reply of over 2 MB.
   */
  extraOutput?: number;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /** Never answer (until the server closes). */
  hang?: boolean;
  /** How many requests this fault applies to; unset means all of them. */
  times?: number;
}

export interface ShoutcloudServerOptions {
  port?: number;
  host?: string;
  /** Serve `/__control/*` to switch faults and read counters over HTTP. Off by default. */
  control?: boolean;
}

export interface ShoutcloudServer {
  readonly url: string;
  /** `POST /V1/SHOUT` requests received, whatever they were answered. */
  readonly requests: number;
  /** Requests whose client closed the connection before the answer was written. */
  readonly cancelled: number;
  /** Headers of the last `POST /V1/SHOUT` (e.g. its `traceparent`), until `reset()`. */
  readonly lastHeaders: IncomingHttpHeaders | undefined;
  /** Replaces the fault queue; no argument clears it. */
  setFaults(...faults: ShoutcloudFault[]): void;
  /** Clears faults and counters. */
  reset(): void;
  close(): Promise<void>;
}

const REFERENCE_400 = 'Bad Request';
const HOSTING_ERROR_PAGE =
  '<!DOCTYPE html><html><head><title>Application Error</title></head>' +
  '<body><p>An error occurred in the application and your page could not be served.</p></body></html>';

/**
 * A Shoutcloud-compatible server: `POST /V1/SHOUT` with `{"INPUT": s}` answers
 * `{"INPUT": s, "OUTPUT": S}` upper-cased the way Go does, with the live service's capitalised
 * `Content-Type: APPLICATION/JSON`, and plain-text 400s for anything but an exact
 * `Content-Type: application/json`. Faults can be switched on for tests and chaos drills.
 */
export async function startShoutcloudServer(options: ShoutcloudServerOptions = {}): Promise<ShoutcloudServer> {
  let faults: ShoutcloudFault[] = [];
  let requests = 0;
  let cancelled = 0;
  let lastHeaders: IncomingHttpHeaders | undefined;
  const sockets = new Set<Socket>();
  // Requests seen by each queued fault, for slowEvery; kept beside the fault so that the fault
  // the control API echoes is the one it was given.
  const seen = new WeakMap<ShoutcloudFault, number>();

  const nextFault = (): ShoutcloudFault | undefined => {
    const fault = faults[0];
    if (fault?.times !== undefined && --fault.times <= 0) faults.shift();
    return fault;
  };

  const shout = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests++;
    lastHeaders = req.headers;
    res.on('close', () => {
      if (!res.writableFinished) cancelled++;
    });
    const body = await readBody(req);
    const fault = nextFault();
    if (fault?.latencyMs) await delay(fault.latencyMs);
    if (fault?.latencyPerByteUs) await delay((Buffer.byteLength(body) * fault.latencyPerByteUs) / 1000);
    const slowEvery = fault?.slowEvery;
    if (slowEvery) {
      const count = (seen.get(fault) ?? 0) + 1;
      seen.set(fault, count);
      if (count % slowEvery.n === 0) await delay(slowEvery.latencyMs);
    }
    if (fault?.hang) return;
    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.status) {
      const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'Retry-After': fault.retryAfter };
      return sendText(res, fault.status, `fault: status ${fault.status}`, headers);
    }
    if (fault?.body === 'html') return send(res, 200, 'text/html', HOSTING_ERROR_PAGE);
    if (req.headers['content-type'] !== 'application/json') return sendText(res, 400, REFERENCE_400);
    let input: unknown;
    try {
      input = (JSON.parse(body) as { INPUT?: unknown } | null)?.INPUT;
    } catch {
      return sendText(res, 400, REFERENCE_400);
    }
    if (typeof input !== 'string') return sendText(res, 400, REFERENCE_400);
    if (fault?.body === 'not-json') return send(res, 200, 'APPLICATION/JSON', '{"OUTPUT": "unterminated');
    // Go's JSON decoder turns invalid UTF-16 into U+FFFD before the handler sees it.
    const wellFormed = input.toWellFormed();
    let output = fault?.caseMapping === 'full' ? wellFormed.toUpperCase() : goToUpper(wellFormed);
    if (fault?.extraOutput) output += 'X'.repeat(fault.extraOutput);
    if (fault?.lie === 'rotate') output = rotateByOneCodePoint(output);
    if (fault?.lie === 'nfc') output = output.normalize('NFC');
    const reply = fault?.body === 'no-output' ? { INPUT: wellFormed } : { INPUT: wellFormed, OUTPUT: output };
    const json = JSON.stringify(reply);
    if (fault?.body === 'invalid-utf8') {
      // Inside OUTPUT's closing quote: the reply is JSON once decoded leniently (0xFF → U+FFFD).
      return send(res, 200, 'APPLICATION/JSON', Buffer.concat([Buffer.from(json.slice(0, -2)), Buffer.from([0xff]), Buffer.from('"}')]));
    }
    send(res, 200, 'APPLICATION/JSON', json);
  };

  const controlPlane = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /__control/stats') return send(res, 200, 'application/json', JSON.stringify({ requests, cancelled }));
    if (route === 'POST /__control/reset') {
      resetState();
      return send(res, 200, 'application/json', JSON.stringify({ requests }));
    }
    if (route === 'PUT /__control/faults') {
      try {
        const parsed = JSON.parse(await readBody(req)) as ShoutcloudFault | ShoutcloudFault[];
        faults = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        return sendText(res, 400, 'faults must be a JSON object or array');
      }
      return send(res, 200, 'application/json', JSON.stringify({ faults }));
    }
    sendText(res, 404, 'Not Found');
  };

  const resetState = () => {
    faults = [];
    requests = 0;
    cancelled = 0;
    lastHeaders = undefined;
  };

  const server: Server = createServer((req, res) => {
    const handle =
      req.method === 'POST' && req.url === '/V1/SHOUT'
        ? shout(req, res)
        : options.control && req.url?.startsWith('/__control/')
          ? controlPlane(req, res)
          : Promise.resolve(sendText(res, 404, 'Not Found'));
    handle.catch(() => req.socket.destroy());
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    get requests() {
      return requests;
    },
    get cancelled() {
      return cancelled;
    },
    get lastHeaders() {
      return lastHeaders;
    },
    setFaults: (...next) => {
      faults = next.map((fault) => ({ ...fault }));
    },
    reset: resetState,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function rotateByOneCodePoint(text: string): string {
  const codePoints = [...text];
  return codePoints.length < 2 ? text : codePoints.at(-1)! + codePoints.slice(0, -1).join('');
}

/** A fault's delay; it does not keep a closed server's process alive. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  send(res, status, 'text/plain; charset=utf-8', text, headers);
}
