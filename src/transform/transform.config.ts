import { configNamespace } from '../config/config-namespace.js';
import { Environment } from '../config/environment.js';

const defaults = new Environment();

/**
 * The limits the request DTOs' rules check (`MAX_INPUT_LENGTH`, `BATCH_MAX_ITEMS`). Those rules
 * are class metadata, shared by every app in the process, so they read this object, which the
 * `transform` namespace sets when an app is created: apps in one process share their limits.
 */
export const inputLimits = { maxInputLength: defaults.MAX_INPUT_LENGTH, batchMaxItems: defaults.BATCH_MAX_ITEMS };

/** Settings of the transform requests. */
export const transformConfig = configNamespace('transform', (env) => {
  inputLimits.maxInputLength = env.MAX_INPUT_LENGTH;
  inputLimits.batchMaxItems = env.BATCH_MAX_ITEMS;
  return {
    /** `REQUEST_DEADLINE_MS`: how long one request waits for Shoutcloud, all tries together. */
    deadlineMs: env.REQUEST_DEADLINE_MS,
  };
});
