import { securityHeaders } from './security-headers.js';

describe('securityHeaders', () => {
  const headers = securityHeaders();

  it('has nosniff, a CSP that keeps Swagger UI working, and no upgrade-insecure-requests', () => {
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['content-security-policy']).toContain("default-src 'self'");
    expect(headers['content-security-policy']).toContain("style-src 'self' 'unsafe-inline'");
    expect(headers['content-security-policy']).toContain("img-src 'self' data:");
    expect(headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });

  it('never advertises the server', () => {
    expect(headers['x-powered-by']).toBeUndefined();
  });
});
