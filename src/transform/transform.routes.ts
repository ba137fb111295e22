/**
 * The Flask service's routes, kept for its clients: same behaviour, its own error text.
 * `/v1/` is served by `/v1` (Fastify `ignoreTrailingSlash`; Nest strips trailing slashes).
 */
export const LEGACY_PATHS = ['/', '/v1', '/v1/'] as const;
export const LEGACY_ROUTES = ['/', '/v1'];

/** The one sentence the old service answered to any body it could not use. */
export const LEGACY_BAD_REQUEST = 'Data was not able to be parsed from request. Please try again.';

const legacyPaths: ReadonlySet<string> = new Set(LEGACY_PATHS);

/** True for a route template of the old service (Fastify's `routeOptions.url`). */
export const isLegacyRoute = (routeUrl: string | undefined) => routeUrl !== undefined && legacyPaths.has(routeUrl);
