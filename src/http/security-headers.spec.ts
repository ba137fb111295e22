import { API_SECURITY_HEADERS, DOCS_SECURITY_HEADERS, securityHeadersFor } from './security-headers.js';

describe('security headers', () => {
  it('gives JSON answers nosniff and a CSP that loads nothing and forbids framing', () => {
    expect(API_SECURITY_HEADERS['x-content-type-options']).toBe('nosniff');
    expect(API_SECURITY_HEADERS['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it("keeps /docs' CSP to what Swagger UI needs, without upgrade-insecure-requests", () => {
    const csp = DOCS_SECURITY_HEADERS['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(DOCS_SECURITY_HEADERS['x-content-type-options']).toBe('nosniff');
  });

  it('picks the page set for /docs, its assets and /docs-json, and the API set elsewhere', () => {
    for (const url of ['/docs', '/docs/swagger-ui.css', '/docs-json']) expect(securityHeadersFor(url)).toBe(DOCS_SECURITY_HEADERS);
    for (const url of ['/transform', '/', '/v1', '/health', '/metrics']) expect(securityHeadersFor(url)).toBe(API_SECURITY_HEADERS);
  });

  it('never advertises the server', () => {
    expect(API_SECURITY_HEADERS['x-powered-by']).toBeUndefined();
    expect(DOCS_SECURITY_HEADERS['x-powered-by']).toBeUndefined();
  });
});
