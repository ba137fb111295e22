/**
 * Headers on every JSON answer: what a browser needs to treat an API answer as data and nothing
 * else. helmet's set is made for web pages (HSTS, COOP, origin-agent-cluster, DNS prefetch, ...):
 * about 700 bytes on every answer that no client of a JSON API reads.
 * - `X-Content-Type-Options: nosniff`: a browser never guesses a type other than the one sent.
 * - `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`: opened in a browser,
 *   an answer loads and runs nothing and cannot be framed.
 * - `Cross-Origin-Resource-Policy: same-origin`: other sites cannot pull answers in with no-cors
 *   loads (`<script src>`, `<img src>`); CORS requests (`CORS_ORIGINS`) are not affected.
 * No `Strict-Transport-Security`: TLS ends at the ingress, which sets it; over the pod's plain
 * HTTP browsers ignore it. `X-Powered-By` is never sent (Fastify sends none).
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
});

/**
 * Headers on `/docs` (the Swagger UI page, its assets and `/docs-json`): a page, so a page's policy.
 * - `Content-Security-Policy`: Swagger UI loads its own scripts and styles from `/docs`; inline
 *   styles and `data:` images and fonts are its only needs beyond `'self'`. No `upgrade-insecure-requests`:
 *   the pod is reached over plain HTTP (TLS ends at the ingress), and upgrading /docs' own
 *   requests would break them.
 * - `X-Content-Type-Options: nosniff`, `Cross-Origin-Resource-Policy: same-origin`: as for answers.
 * - `Referrer-Policy: no-referrer`: links followed from the page do not tell where they came from.
 */
export const DOCS_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'cross-origin-resource-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
});

/** The headers for a request URL: the page's set under `/docs`, the API's everywhere else. */
export function securityHeadersFor(url: string): Readonly<Record<string, string>> {
  return url.startsWith('/docs') ? DOCS_SECURITY_HEADERS : API_SECURITY_HEADERS;
}
