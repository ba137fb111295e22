import { context, propagation, type TextMapSetter } from '@opentelemetry/api';
import type { AxiosHeaders, AxiosInstance } from 'axios';

const setter: TextMapSetter<AxiosHeaders> = { set: (headers, key, value) => void headers.set(key, value) };

/**
 * Adds the active span's W3C `traceparent` (and `tracestate`, baggage) to every request `axios`
 * sends, so Shoutcloud's side of a call joins the caller's trace. Synchronous, so it runs in
 * the caller's async context: the upstream try's span when there is one, else the request's.
 */
export function propagateTraceContext(axios: AxiosInstance): void {
  axios.interceptors.request.use(
    (config) => {
      propagation.inject(context.active(), config.headers, setter);
      return config;
    },
    undefined,
    { synchronous: true },
  );
}
