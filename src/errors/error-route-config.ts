/**
 * What a route may tell the exception filter about its error answers, in Fastify's route config
 * (the decorators in `src/http/body-route-config.ts` set it).
 */
export interface ErrorRouteConfig {
  /**
   * The one sentence this route answers, with a 400 and no details, to every problem with the
   * request body or its content type (those are 400 or 415 elsewhere).
   */
  bodyErrorSentence?: string;
  /** The route reads JSON only: a form body is a 415 before it is parsed. */
  jsonOnly?: boolean;
}
