import { diag } from "@opentelemetry/api";

/**
 * The running SDK's shutdown, if the preload started one. The preload and the
 * service's own imports resolve to the same dist/state.js, so they share it.
 */
let stopSdk: (() => Promise<void>) | undefined;
let stopping: Promise<void> | undefined;

/** Called once by the preload after `sdk.start()`. */
export function setSdkShutdown(stop: () => Promise<void>): void {
  stopSdk = stop;
}

/** True when the preload started the SDK in this process. */
export function tracingStarted(): boolean {
  return stopSdk !== undefined;
}

/**
 * Flushes buffered spans and stops the SDK, waiting at most `timeoutMs`.
 * Never rejects: a collector that is down must not fail a service's exit.
 * Idempotent, and a no-op when tracing is off. A service host calls it last,
 * after draining its own calls (so the drain's spans are exported too).
 */
export function shutdownTracing(timeoutMs = 5_000): Promise<void> {
  const stop = stopSdk;
  if (stop === undefined) return Promise.resolve();
  stopping ??= new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      diag.warn(`tracing shutdown took over ${timeoutMs} ms; spans may be lost`);
      resolve();
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        diag.warn("tracing shutdown failed", err);
        resolve();
      },
    );
  });
  return stopping;
}
