/**
 * Every sentence the API answers an error with, in one place: the exception filter, the errors
 * that carry their own answer, the answers Node and Fastify would otherwise write themselves, and
 * the examples in the OpenAPI document all read them from here, so the docs cannot drift.
 */
export const ERROR_SENTENCES = {
  invalidBody: 'The request body is not valid.',
  unparseableBody: 'The request body could not be parsed.',
  emptyBody: 'The request body is empty; send {"data": "<text>"}.',
  invalidJson: 'The request body is not valid JSON.',
  invalidUtf8: 'The request body is not valid UTF-8.',
  prototypeKey: 'The request body has a "__proto__" or "constructor.prototype" key, which this API refuses.',
  jsonCharset: (charset: string) => `The JSON body is declared as charset "${charset}"; this API reads JSON only as UTF-8.`,
  contentEncoding: (encoding: string) => `The request body has Content-Encoding "${encoding}", which this API does not decode; send it unencoded.`,
  bodyLengthMismatch: 'The request body length does not match its Content-Length.',
  tooManyFormFields: (maxFields: number) => `The form body has more than ${maxFields} fields; send only data.`,
  repeatedDataField: 'The form body has more than one data field; send data once.',
  formEscapeNotUtf8: 'The form body has a percent-escape that is not valid UTF-8.',
  bodyTooLarge: (limitBytes: number) => `The request body is larger than ${limitBytes} bytes, the most this API accepts.`,
  unsupportedMediaType: 'Send the body as application/json or application/x-www-form-urlencoded.',
  jsonOnly: 'Send the body as application/json: this route takes JSON only.',
  formLooksLikeJson: 'The body arrived as a form but looks like JSON: send it with Content-Type: application/json.',
  tooManyRequests: 'Too many requests from this address; slow down and try again shortly.',
  upstreamRejected: 'Shoutcloud rejected the request.',
  upstreamBadReply: 'Shoutcloud answered something that is not a usable reply.',
  upstreamUnavailable: 'Shoutcloud is unreachable or failing; try again shortly.',
  upstreamQueueFull: 'Shoutcloud is answering slower than texts arrive; try again shortly.',
  upstreamPaused: 'Shoutcloud asked for a pause; try again once Retry-After has passed.',
  upstreamBreakerOpen: 'Shoutcloud is failing; requests are paused for a moment to let it recover.',
  upstreamDeadline: (deadlineMs: number) => `Shoutcloud did not answer within the ${deadlineMs} ms deadline.`,
  requestTimeout: (timeoutMs: number) => `The request did not arrive whole within ${timeoutMs} ms.`,
  headersTooLarge: 'The request headers are larger than this API accepts.',
  badRequest: 'The request is not well-formed HTTP.',
  badUrl: 'The request URL is not valid: a percent-escape does not decode to UTF-8.',
  notFound: (method: string, path: string) => `There is nothing at ${method} ${path}.`,
  methodNotAllowed: (method: string, path: string, allowed: readonly string[]) => `${method} is not allowed on ${path}; use ${allowed.join(' or ')}.`,
  /** Any other status an error of the framework carries, by its name ("not acceptable"). */
  otherStatus: (statusName: string) => `The request failed: ${statusName}.`,
  overloaded: 'This replica holds as many requests as it can; try again shortly.',
  expectationFailed: 'The Expect header asks for something this API does not do; only 100-continue is understood.',
  connectNotAllowed: 'This API is not a proxy: CONNECT is not allowed; use GET or POST.',
  metricsPortRoutes: 'This port serves GET /metrics and GET /health only.',
  /** Logged only: nothing is sent on a closed connection. */
  clientGone: 'The client closed the connection before the answer was ready.',
  shuttingDown: 'This replica is shutting down; send the request again.',
  internal: 'Something went wrong on our side; it has been logged.',
  /** The old service's one answer to any unusable body, kept word for word for its clients. */
  legacyBadRequest: 'Data was not able to be parsed from request. Please try again.',
} as const;
