/**
 * @prescient/tracing: helpers over the OpenTelemetry API. They work whether
 * or not the preload started the SDK; without it they are cheap no-ops and
 * the carriers they make are empty. The SDK itself is started only by
 * `node --import @prescient/tracing/preload`.
 */
export {
  currentTraceparent,
  extractContext,
  injectContext,
  linkFromCarrier,
  linksFromCarriers,
  spanContextFromCarrier,
  type TraceCarrier,
} from "./carrier.js";
export { type TracingDecision, tracingDecision } from "./config.js";
export { quietContext, runQuietly } from "./quiet.js";
export {
  annotateActiveSpan,
  boundedAttributes,
  domainAttribute,
  markActiveSpanError,
  tracer,
  type WithSpanOptions,
  withRootSpan,
  withSpan,
  withWorkSpan,
} from "./spans.js";
export { shutdownTracing, tracingStarted } from "./state.js";
