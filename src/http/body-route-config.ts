import { RouteConfig } from '@nestjs/platform-fastify';

/**
 * What a route tells the body parsers and the exception filter, in Fastify's route config. Nest
 * keeps one route config per route: a route takes one of the decorators below.
 */
export interface BodyRouteConfig {
  /**
   * The one sentence this route answers, with a 400 and no details, to every problem with the
   * request body or its content type (those are 400 or 415 elsewhere).
   */
  bodyErrorSentence?: string;
  /** The route reads JSON only: a form body is a 415 before it is parsed. */
  jsonOnly?: boolean;
}

/** Declares on a route the one sentence it answers to any unusable body. */
export const BodyErrorSentence = (sentence: string) => RouteConfig({ bodyErrorSentence: sentence } satisfies BodyRouteConfig);

/** Declares that a route reads JSON bodies only. */
export const JsonOnly = () => RouteConfig({ jsonOnly: true } satisfies BodyRouteConfig);
