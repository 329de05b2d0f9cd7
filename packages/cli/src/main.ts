#!/usr/bin/env node
/**
 * The `prescient` entry point. Tracing starts here, before the rest of the
 * CLI is even linked: the preload decides from OTEL_* alone, and when tracing
 * is on it registers the gRPC instrumentation's loader hook, which only
 * patches modules linked after it. Hence the dynamic imports: a static import
 * of the commands would link @grpc/grpc-js first. `prescient up`, `prescient
 * serve`, `npm start` and the image all trace the same way, with or without
 * `node --import @prescient/tracing/preload` (which this repeats harmlessly).
 */
await import("@prescient/tracing/preload");
await import("./cli.js");
