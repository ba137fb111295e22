import { configNamespace } from '../config/config-namespace.js';

/** Settings of the transform requests, provided by `TransformModule`. */
export const transformConfig = configNamespace('transform', (env) => ({
  /** `REQUEST_DEADLINE_MS`: how long one request waits for Shoutcloud, all tries together. */
  deadlineMs: env.REQUEST_DEADLINE_MS,
  /** `MAX_INPUT_LENGTH`: the longest text, in Unicode code points. */
  maxInputLength: env.MAX_INPUT_LENGTH,
  /** `BATCH_MAX_ITEMS`: the most texts in one batch. */
  batchMaxItems: env.BATCH_MAX_ITEMS,
}));
