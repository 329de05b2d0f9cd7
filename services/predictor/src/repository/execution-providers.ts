import { errorMessage, FailedPreconditionError } from "@prescient/core";
import { disableOrtTelemetry, type Logger } from "@prescient/kit";
import { InferenceSession } from "onnxruntime-node";
import type { ExecutionProviderName } from "./model-config.js";
import { providerUnavailable } from "./provider-availability.js";
import { ortSessionOptions, type SessionThreading } from "./session-options.js";
import { WorkerSession } from "./worker-session.js";

/**
 * Creates a model's sessions on the first execution provider that starts.
 * onnxruntime-node bundles cpu and webgpu (Vulkan on Linux); cuda needs the
 * CUDA build of the package. A provider that fails either falls back to the
 * next in the model's list, with a warning, or fails the load, per config.
 */
export interface ProviderChoice {
  providers: ExecutionProviderName[];
  fallback: boolean;
  threading: SessionThreading;
  instances: number;
  /** Each instance's session on a worker thread of its own (WorkerSession). */
  inWorkers: boolean;
}

/** A model instance: a session on the event loop's thread, or on a worker of its own. */
export type InstanceSession = InferenceSession | WorkerSession;

export interface StartedSessions {
  provider: ExecutionProviderName;
  sessions: InstanceSession[];
}

export async function createSessions(
  model: Uint8Array,
  choice: ProviderChoice,
  log: Logger,
  label: string,
): Promise<StartedSessions> {
  const failures: string[] = [];
  for (const [i, provider] of choice.providers.entries()) {
    const sessions: InstanceSession[] = [];
    try {
      const unavailable = providerUnavailable(provider);
      if (unavailable !== undefined) throw new Error(unavailable);
      disableOrtTelemetry();
      const options = ortSessionOptions(provider, choice.threading);
      for (let n = 0; n < choice.instances; n++)
        sessions.push(
          choice.inWorkers
            ? await WorkerSession.start(model, options)
            : await InferenceSession.create(model, options),
        );
      if (failures.length > 0)
        log.warn({ model: label, provider, failures }, "running on a fallback execution provider");
      return { provider, sessions };
    } catch (e) {
      await Promise.allSettled(sessions.map((s) => s.release()));
      const reason = `${provider}: ${errorMessage(e).split("\n")[0]}`;
      failures.push(reason);
      const next = choice.providers[i + 1];
      if (!choice.fallback || next === undefined)
        throw new FailedPreconditionError(
          `${label}: execution provider failed to start (${failures.join("; ")})${choice.fallback ? "" : "; provider_fallback is off"}`,
        );
      log.warn({ model: label, provider, next, reason }, "execution provider failed to start; falling back");
    }
  }
  throw new FailedPreconditionError(`${label}: no execution provider configured`);
}
