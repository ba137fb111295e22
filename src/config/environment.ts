import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  validateSync,
  type ValidationError,
} from 'class-validator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const FALLBACK_MODES = ['off', 'local'] as const;
const SWITCH = ['on', 'off'] as const;

/** Integers only: `Number('1e3')` or `'12abc'` would otherwise slip through. */
const toInteger = Transform(({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value,
);

/** `host:port` or `[ipv6]:port`, comma-separated. */
const HOST_PORT_LIST = /^\s*(?:\[[0-9a-fA-F:.]+\]|[^\s,:[\]]+):\d{1,5}\s*(?:,\s*(?:\[[0-9a-fA-F:.]+\]|[^\s,:[\]]+):\d{1,5}\s*)*$/;

/**
 * Every environment variable the service reads (`.env.example` lists them all), with its default.
 * Validated once per app (`createApp`); in `main.ts` a bad value stops the process with one line
 * per variable.
 */
export class Environment {
  /** TCP port to listen on. Default 3000. */
  @toInteger @IsInt() @Min(1) @Max(65535) PORT = 3000;

  /** Interface to bind. Default 0.0.0.0 (the image's and the deployment's); `npm start` passes 127.0.0.1 unless HOST is set. */
  @IsString() HOST = '0.0.0.0';

  /** Port of `/metrics` and the detailed `/health`, on HOST, never PORT; 0: any free one. Default 9464. */
  @toInteger @IsInt() @Min(0) @Max(65535) METRICS_PORT = 9464;

  /** How long (ms) one rendering of `/metrics` answers later scrapes; 0: none. Default 1000. */
  @toInteger @IsInt() @Min(0) @Max(60_000) METRICS_CACHE_MS = 1000;

  /** Base URL of a Shoutcloud-compatible server. Default http://api.shoutcloud.io. */
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  SHOUTCLOUD_URL = 'http://api.shoutcloud.io';

  /** Timeout of one upstream try, in ms. Default 1000. */
  @toInteger @IsInt() @Min(1) @Max(60_000) SHOUTCLOUD_TIMEOUT_MS = 1000;

  /** Retries after the first try. Default 2. */
  @toInteger @IsInt() @Min(0) @Max(10) SHOUTCLOUD_RETRIES = 2;

  /** What to do when Shoutcloud cannot answer: `off` (fail) or `local` (upper-case here). */
  @IsIn(FALLBACK_MODES) SHOUTCLOUD_FALLBACK: (typeof FALLBACK_MODES)[number] = 'off';

  /** Consecutive failed tries that open the circuit breaker. Default 5. */
  @toInteger @IsInt() @Min(1) @Max(1000) SHOUTCLOUD_BREAKER_THRESHOLD = 5;

  /** How long the breaker stays open before a half-open probe, in ms. Default 10000. */
  @toInteger @IsInt() @Min(100) @Max(600_000) SHOUTCLOUD_BREAKER_HALF_OPEN_MS = 10_000;

  /** Retries allowed as a share of recent requests, in percent (200 or more: no cap at 2 retries). Default 20. */
  @toInteger @IsInt() @Min(0) @Max(1000) SHOUTCLOUD_RETRY_BUDGET_PERCENT = 20;

  /** `on`: at most SHOUTCLOUD_MAX_CALLS_IN_FLIGHT calls; misses while all are busy go together next. `off`: each alone, at once. Default on. */
  @IsIn(SWITCH) SHOUTCLOUD_COALESCE: (typeof SWITCH)[number] = 'on';

  /** Most UTF-8 bytes of text in one upstream call (less while calls run long); a longer text goes alone. Default 65536. */
  @toInteger @IsInt() @Min(256) @Max(1_048_576) SHOUTCLOUD_COALESCE_MAX_BYTES = 65_536;

  /** Upstream calls in flight per replica, with SHOUTCLOUD_COALESCE on. Default 1. */
  @toInteger @IsInt() @Min(1) @Max(64) SHOUTCLOUD_MAX_CALLS_IN_FLIGHT = 1;

  /** Most UTF-8 bytes of misses waiting for a slot; beyond it: stale, fallback, else 503 at once. Default 1048576. */
  @toInteger @IsInt() @Min(1024) @Max(67_108_864) SHOUTCLOUD_QUEUE_MAX_BYTES = 1_048_576;

  /**
   * `on`: a try running past 1.2 × the p95 of recent successful tries gets a second, concurrent
   * try (within the retry budget, never while the breaker is open or half-open). Default on.
   */
  @IsIn(SWITCH) SHOUTCLOUD_HEDGE: (typeof SWITCH)[number] = 'on';

  /** The earliest a try is hedged, in ms. Default 50. */
  @toInteger @IsInt() @Min(1) @Max(60_000) SHOUTCLOUD_HEDGE_MIN_MS = 50;

  /** A learned hedge delay above this (Shoutcloud slow across the board) means no hedge, in ms. Default 500. */
  @toInteger @IsInt() @Min(1) @Max(60_000) SHOUTCLOUD_HEDGE_MAX_MS = 500;

  /** All tries of one request together, in ms. Default 3000. */
  @toInteger @IsInt() @Min(1) @Max(120_000) REQUEST_DEADLINE_MS = 3000;

  /** How long an answer stays fresh, in seconds. Default 86400 (answers are deterministic). */
  @toInteger @IsInt() @Min(1) CACHE_TTL_SECONDS = 86_400;

  /** How long past its TTL an entry may still be served when Shoutcloud fails. Default 604800. */
  @toInteger @IsInt() @Min(0) CACHE_STALE_SECONDS = 604_800;

  /** Bound of the in-process cache, in bytes of keys and values. Default 64 MiB. */
  @toInteger @IsInt() @Min(1024) CACHE_MAX_BYTES = 64 * 1024 * 1024;

  /** Bound of the in-process cache, in entries. Default 100000. */
  @toInteger @IsInt() @Min(1) CACHE_MAX_ENTRIES = 100_000;

  /**
   * Writes to the shared (Redis) tier in flight at once, made in the background after an answer
   * has gone out; past it a write is dropped and counted. Default 256.
   */
  @toInteger @IsInt() @Min(1) CACHE_WRITES_MAX_IN_FLIGHT = 256;

  /** Redis for the shared cache tier and rate limits. Unset: in-process only. */
  @IsOptional()
  @IsUrl(
    { protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true },
    { message: 'must be a redis:// or rediss:// (TLS) URL, e.g. redis://127.0.0.1:6379' },
  )
  REDIS_URL?: string = undefined;

  /**
   * Redis Sentinels to ask for the current primary, as comma-separated `host:port`: the other way
   * to reach the shared Redis than `REDIS_URL` (one of the two, never both). Needs `REDIS_SENTINEL_MASTER`.
   */
  @IsOptional()
  @Matches(HOST_PORT_LIST, { message: 'must be comma-separated host:port pairs, e.g. sentinel-0:26379,sentinel-1:26379' })
  REDIS_SENTINELS?: string = undefined;

  /**
   * Seed nodes of a Redis Cluster, as comma-separated `host:port`: a third way to reach the shared
   * Redis (never with `REDIS_URL` or `REDIS_SENTINELS`). The rest of the cluster is learned from them.
   */
  @IsOptional()
  @Matches(HOST_PORT_LIST, { message: 'must be comma-separated host:port pairs, e.g. redis-0:6379,redis-1:6379' })
  REDIS_CLUSTER_NODES?: string = undefined;

  /** The name the Sentinels monitor the primary under (`sentinel monitor <name> ...`). Needs `REDIS_SENTINELS`. */
  @IsOptional() @IsString() REDIS_SENTINEL_MASTER?: string = undefined;

  /** ACL user for the Redis nodes (primary and replicas). Unset: the default user. Needs `REDIS_PASSWORD`. */
  @IsOptional() @IsString() REDIS_USERNAME?: string = undefined;

  /** Password for the Redis nodes; with `REDIS_URL`, instead of one inside the URL. Unset: no AUTH. */
  @IsOptional() @IsString() REDIS_PASSWORD?: string = undefined;

  /** ACL user for the Sentinels. Unset: the default user. Needs `REDIS_SENTINEL_PASSWORD`. */
  @IsOptional() @IsString() REDIS_SENTINEL_USERNAME?: string = undefined;

  /** Password for the Sentinels (`requirepass` in sentinel.conf). Unset: no AUTH. */
  @IsOptional() @IsString() REDIS_SENTINEL_PASSWORD?: string = undefined;

  /** Timeout of one Redis command, in ms; past it the request goes on without Redis. Default 100. */
  @toInteger @IsInt() @Min(1) @Max(10_000) REDIS_TIMEOUT_MS = 100;

  /** Consecutive failed or timed-out Redis calls after which requests stop calling Redis. Default 5. */
  @toInteger @IsInt() @Min(1) @Max(1000) REDIS_BREAKER_THRESHOLD = 5;

  /** While requests skip Redis, a background PING checks it this often, in ms. Default 1000. */
  @toInteger @IsInt() @Min(100) @Max(60_000) REDIS_PROBE_INTERVAL_MS = 1000;

  /** Longest `data`, in Unicode code points. Default 10000. */
  @toInteger @IsInt() @Min(1) MAX_INPUT_LENGTH = 10_000;

  /** Most items in one `POST /transform/batch`. Default 100. */
  @toInteger @IsInt() @Min(1) @Max(10_000) BATCH_MAX_ITEMS = 100;

  /** Largest request body, in bytes. Default 131072. */
  @toInteger @IsInt() @Min(64) MAX_BODY_BYTES = 131_072;

  /**
   * Time for a request's headers and body to arrive, in ms; past it the answer is 408 and the
   * connection is closed. Default 30000.
   */
  @toInteger @IsInt() @Min(1000) @Max(600_000) REQUEST_TIMEOUT_MS = 30_000;

  /** Requests in flight per replica (probes aside); past it, 503 before the body is read. Unset: heap limit / 64 KiB, 256..16384. */
  @IsOptional() @toInteger @IsInt() @Min(1) MAX_REQUESTS_IN_FLIGHT?: number = undefined;

  /** Request-body bytes in flight per replica (chunked counts as MAX_BODY_BYTES); past it, 503 before the body is read. Unset: heap limit / 32. */
  @IsOptional() @toInteger @IsInt() @Min(1024) MAX_BODY_BYTES_IN_FLIGHT?: number = undefined;

  /** Open connections per replica; past it a new one is closed at once. Unset: heap limit / 32 KiB, 1024..65536. */
  @IsOptional() @toInteger @IsInt() @Min(1) MAX_CONNECTIONS?: number = undefined;

  /** Mean event-loop delay (ms) past which a replica refuses new requests (503) until it catches up; 0: never. Default 200. */
  @toInteger @IsInt() @Min(0) @Max(60_000) MAX_EVENT_LOOP_DELAY_MS = 200;

  /** Requests per minute per client IP. Unset: no limit. */
  @IsOptional() @toInteger @IsInt() @Min(1) RATE_LIMIT_PER_MINUTE?: number = undefined;

  /** IPv6 clients are counted per network of this many bits (128: per address). Default 64. */
  @toInteger @IsInt() @Min(32) @Max(128) RATE_LIMIT_IPV6_PREFIX = 64;

  /** After SIGTERM, keep accepting for this long (ms) while readiness reports 503. Default 0. */
  @toInteger @IsInt() @Min(0) @Max(600_000) SHUTDOWN_DELAY_MS = 0;

  /** After that, how long in-flight requests may take to finish (ms). Default 10000. */
  @toInteger @IsInt() @Min(0) @Max(600_000) SHUTDOWN_GRACE_MS = 10_000;

  /** Proxies in front of the pod whose X-Forwarded-For is trusted for the client IP. Default 0. */
  @toInteger @IsInt() @Min(0) @Max(10) TRUST_PROXY_HOPS = 0;

  /** Comma-separated origins allowed by CORS. Unset: CORS off. */
  @IsOptional() @IsString() CORS_ORIGINS?: string = undefined;

  /**
   * OTLP/HTTP collector base URL (`/v1/traces` is appended). Unset: tracing off, and no
   * OpenTelemetry SDK is loaded. The SDK's other standard OTEL_* variables apply as documented.
   */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  OTEL_EXPORTER_OTLP_ENDPOINT?: string = undefined;

  /** `service.name` of the exported spans. Default transform-api. */
  @IsString() OTEL_SERVICE_NAME = 'transform-api';

  /** pino level. Default info. */
  @IsIn(LOG_LEVELS) LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** `pretty` for human-readable logs in development; JSON lines otherwise. */
  @IsOptional() @IsIn(['json', 'pretty']) LOG_FORMAT: 'json' | 'pretty' = 'json';
}

/** Thrown at start-up with one human line per bad variable. */
export class EnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.join('\n')}`);
    this.name = 'EnvironmentError';
  }
}

function describe(error: ValidationError): string {
  const got = JSON.stringify(error.value);
  const reasons = Object.values(error.constraints ?? {}).join('; ');
  return `${error.property}=${got}: ${reasons}`;
}

/**
 * Validates the raw environment. Absent and blank variables keep their defaults, so `FOO=` in a
 * manifest means "use the default" rather than "empty".
 */
export function validateEnvironment(raw: Readonly<Record<string, string | undefined>>): Environment {
  const present = Object.fromEntries(
    Object.keys(new Environment())
      .filter((key) => raw[key] !== undefined && raw[key].trim() !== '')
      .map((key) => [key, raw[key]]),
  );
  const env = plainToInstance(Environment, present, { exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: true });
  if (errors.length > 0) throw new EnvironmentError(errors.map(describe));
  if (env.SHUTDOWN_GRACE_MS + env.SHUTDOWN_DELAY_MS > 600_000) {
    throw new EnvironmentError(['SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS: must not exceed 600000 ms together']);
  }
  if (env.METRICS_PORT === env.PORT) {
    throw new EnvironmentError(['METRICS_PORT: must differ from PORT, which is public']);
  }
  if (env.SHOUTCLOUD_HEDGE_MIN_MS > env.SHOUTCLOUD_HEDGE_MAX_MS) {
    throw new EnvironmentError(['SHOUTCLOUD_HEDGE_MIN_MS: must not exceed SHOUTCLOUD_HEDGE_MAX_MS']);
  }
  const redisProblems = redisCombinationProblems(env);
  if (redisProblems.length > 0) throw new EnvironmentError(redisProblems);
  return env;
}

/** The ways to reach Redis and their credentials are each valid alone; these are the combinations that are not. */
function redisCombinationProblems(env: Environment): string[] {
  const problems: string[] = [];
  const set = (value: string | undefined) => value !== undefined;
  const ways = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((name) => set(env[name]));
  if (ways.length > 1) {
    problems.push(`${ways.join(' and ')}: ${ways.length === 2 ? 'both' : 'all'} set; reach Redis one way, by its URL, through Sentinel or as a cluster`);
  }
  if (set(env.REDIS_SENTINELS) !== set(env.REDIS_SENTINEL_MASTER)) {
    problems.push(
      set(env.REDIS_SENTINELS)
        ? 'REDIS_SENTINEL_MASTER: unset, but REDIS_SENTINELS needs the name the Sentinels monitor the primary under'
        : 'REDIS_SENTINELS: unset, but REDIS_SENTINEL_MASTER is set; list the Sentinels as host:port,host:port',
    );
  }
  if (set(env.REDIS_USERNAME) && !set(env.REDIS_PASSWORD)) problems.push('REDIS_USERNAME: set without REDIS_PASSWORD');
  if (set(env.REDIS_SENTINEL_USERNAME) && !set(env.REDIS_SENTINEL_PASSWORD)) {
    problems.push('REDIS_SENTINEL_USERNAME: set without REDIS_SENTINEL_PASSWORD');
  }
  if ((set(env.REDIS_USERNAME) || set(env.REDIS_PASSWORD)) && ways.length === 0) {
    problems.push('REDIS_USERNAME, REDIS_PASSWORD: set, but none of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES is');
  }
  if ((set(env.REDIS_SENTINEL_USERNAME) || set(env.REDIS_SENTINEL_PASSWORD)) && !set(env.REDIS_SENTINELS)) {
    problems.push('REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD: set, but REDIS_SENTINELS is not');
  }
  if (set(env.REDIS_URL) && (set(env.REDIS_USERNAME) || set(env.REDIS_PASSWORD))) {
    const url = new URL(env.REDIS_URL!);
    if (url.username || url.password) {
      problems.push('REDIS_URL and REDIS_USERNAME/REDIS_PASSWORD: credentials in both; keep them in one place');
    }
  }
  return problems;
}
