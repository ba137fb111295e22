import { RouteConfig } from '@nestjs/platform-fastify';
import type { ErrorRouteConfig } from '../errors/error-route-config.js';

/**
 * What a route tells the body parsers and the exception filter, in Fastify's route config. Nest
 * keeps one route config per route: a route takes one of the decorators below.
 */
export type BodyRouteConfig = ErrorRouteConfig;

/** Declares on a route the one sentence it answers to any unusable body. */
export const BodyErrorSentence = (sentence: string) => RouteConfig({ bodyErrorSentence: sentence } satisfies BodyRouteConfig);

/** Declares that a route reads JSON bodies only. */
export const JsonOnly = () => RouteConfig({ jsonOnly: true } satisfies BodyRouteConfig);
