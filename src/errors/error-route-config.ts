import { RouteConfig } from '@nestjs/platform-fastify';

/** What a route tells the exception filter, carried in Fastify's route config. */
export interface ErrorRouteConfig {
  /**
   * The one sentence this route answers, with a 400 and no details, to every problem with the
   * request body or its content type (those are 400 or 415 elsewhere).
   */
  bodyErrorSentence?: string;
}

/** Declares on a route the one sentence it answers to any unusable body. */
export const BodyErrorSentence = (sentence: string) => RouteConfig({ bodyErrorSentence: sentence } satisfies ErrorRouteConfig);
