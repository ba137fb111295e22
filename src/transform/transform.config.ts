import { registerAs } from '@nestjs/config';
import { environment } from '../config/environment.js';

/** Settings of the transform requests. */
export const transformConfig = registerAs('transform', () => ({
  /** `REQUEST_DEADLINE_MS`: how long one request waits for Shoutcloud, all tries together. */
  deadlineMs: environment().REQUEST_DEADLINE_MS,
}));
