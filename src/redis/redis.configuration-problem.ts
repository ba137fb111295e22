/**
 * Redis errors that no retry will cure, each with what the operator has to change. Redis says
 * them at the handshake (a database or credentials refused: node-redis then redials for ever) or
 * on every command (no password given to a server that requires one); either way they look like
 * an outage unless named.
 */
const PROBLEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/DB index is out of range|invalid DB index/i, 'the database number in REDIS_URL does not exist on the server'],
  [
    /WRONGPASS/,
    'the server refuses the user name or password (REDIS_USERNAME and REDIS_PASSWORD or those in REDIS_URL; for Sentinels, REDIS_SENTINEL_USERNAME and REDIS_SENTINEL_PASSWORD)',
  ],
  [/NOAUTH/, 'the server requires a password and none is given (REDIS_PASSWORD, or one in REDIS_URL)'],
  [/AUTH <password> called without any password configured/, 'a password is given but the server has none configured: leave REDIS_PASSWORD unset'],
  [/NOPERM/, 'the ACL user lacks a permission the service needs (GET, SET, DEL, INCR, PEXPIRE, PTTL, MULTI, PING, INFO)'],
];

/** What to fix when `reason` (a Redis error message) is a configuration problem; otherwise `undefined`. */
export function configurationProblem(reason: string): string | undefined {
  return PROBLEMS.find(([pattern]) => pattern.test(reason))?.[1];
}
