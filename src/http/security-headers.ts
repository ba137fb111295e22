import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  // Swagger UI loads its own scripts and styles from /docs; inline styles and data: images are
  // its only needs beyond 'self'. No upgrade-insecure-requests: the pod is reached over plain
  // HTTP (TLS ends at the ingress), and upgrading /docs' own requests would break them.
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
  // An API answer is never a page to embed or a cross-origin resource to isolate.
  crossOriginEmbedderPolicy: false,
};

/**
 * helmet's headers, worked out once. They depend only on the options, and @fastify/helmet would
 * rebuild them on every request (12% of a cache hit's CPU in the profile, bench/README.md).
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  } as unknown as ServerResponse;
  helmet(HELMET_OPTIONS)({} as IncomingMessage, response, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}
