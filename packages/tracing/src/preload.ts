/**
 * Preloaded with `node --import @prescient/tracing/preload <main>`, before any
 * application module, so that @grpc/grpc-js is instrumented when it loads.
 *
 * With no OTLP endpoint in the environment this module decides so and stops:
 * neither the SDK nor the loader hook is loaded, so an untraced process pays
 * for one env lookup. Otherwise it registers the import-in-the-middle hook
 * (without it, ESM imports of grpc-js are not patched: client spans go missing
 * and one call across two services splits into two traces), starts the SDK,
 * and flushes on `beforeExit`. It installs no signal handler, because that
 * would take over SIGTERM from the service; a service host calls
 * `shutdownTracing()` from @prescient/tracing after its own drain instead.
 * The `prescient` CLI imports this module first thing, so services started
 * through it trace without the flag.
 */
import { register } from "node:module";
import { tracingDecision } from "./config.js";

// The CLI's entry point imports this module too, so `node --import` of it
// followed by the CLI must start one SDK, not two.
const started = Symbol.for("prescient.tracing.preloaded");
const global = globalThis as { [started]?: true };

if (global[started] === undefined && tracingDecision(process.env).enabled) {
  global[started] = true;
  // Only grpc-js is instrumented, so only grpc-js needs wrapping: hooking every
  // ESM module would slow start-up for nothing.
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url, {
    data: { include: ["@grpc/grpc-js"] },
  });
  const [{ startSdk }, { setSdkShutdown, shutdownTracing }] = await Promise.all([
    import("./sdk.js"),
    import("./state.js"),
  ]);
  setSdkShutdown(startSdk(process.env));
  // A process that ends by running out of work (a CLI command) flushes here;
  // one that calls process.exit() must await shutdownTracing() first.
  process.once("beforeExit", () => void shutdownTracing());
}
