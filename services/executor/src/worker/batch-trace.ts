import { type Span, SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import {
  domainAttribute as attr,
  boundedAttributes,
  extractContext,
  spanContextFromCarrier,
  tracer,
} from "@prescient/tracing";
import type { ClaimedTask, FailOutcome, TaskFailure } from "../queue/index.js";

/** Failed tasks named as events on one batch span; the attribute counts the rest. */
const failureEventsPerBatch = 32;

/**
 * The trace side of one batch. The `executor.batch` span is a root linked
 * to every task's enqueuer (kept when any of them was kept: the links-based
 * sampler). Each task whose enqueuer was sampled also gets an `executor.task`
 * span in its own trace, a child of the enqueue, so a kept trigger shows its
 * computation wherever the batch landed; unsampled tasks cost nothing. A
 * failed task marks its span ERROR with the reason and whether it will be
 * retried or was dead-lettered, and is an event on the batch span.
 */
export class BatchTrace {
  readonly #batch: Span;
  readonly #tasks = new Map<string, Span>();

  constructor(batch: Span, claimed: readonly ClaimedTask[]) {
    this.#batch = batch;
    const types = new Set(claimed.map((t) => t.taskType));
    batch.setAttributes(
      boundedAttributes({
        [attr.batchSize]: claimed.length,
        [attr.taskType]: types.size === 1 ? [...types][0] : "(mixed)",
      }),
    );
    const link = { context: batch.spanContext() };
    for (const task of claimed) {
      const carrier = task.traceparent ? { traceparent: task.traceparent } : undefined;
      const parent = spanContextFromCarrier(carrier);
      if (parent === undefined || (parent.traceFlags & TraceFlags.SAMPLED) === 0) continue;
      const span = tracer().startSpan(
        "executor.task",
        {
          attributes: boundedAttributes({
            [attr.taskId]: task.id,
            [attr.taskType]: task.taskType,
            [attr.tenant]: task.tenant,
            [attr.reason]: task.reasons.join(","),
            "prescient.task.attempt": task.attempts,
          }),
          links: [link],
        },
        extractContext(carrier),
      );
      this.#tasks.set(task.id, span);
    }
  }

  /**
   * Ends every task span with its outcome, and records the failures on the
   * batch span. `refused`: computed, but no longer this worker's to ack.
   */
  settle(
    completed: readonly string[],
    failures: readonly TaskFailure[],
    outcomes: readonly FailOutcome[],
    refused: readonly string[] = [],
  ): void {
    for (const id of completed) this.#end(id, "completed");
    for (const id of refused)
      this.#end(id, "lease_lost", "computed after the lease ran out: another claim completes it");
    const outcomeOf = new Map(outcomes.map((o) => [o.id, o.outcome]));
    let events = 0;
    for (const f of failures) {
      const raw = outcomeOf.get(f.id);
      const outcome = raw === "dead" ? "dead_lettered" : raw === "retry" ? "retried" : "failed";
      this.#end(f.id, outcome, f.error);
      if (events++ < failureEventsPerBatch)
        this.#batch.addEvent(
          "task failed",
          boundedAttributes({ [attr.taskId]: f.id, [attr.outcome]: outcome, "error.message": f.error }),
        );
    }
    if (failures.length > 0) {
      this.#batch.setAttribute("prescient.batch.failed", failures.length);
      this.#batch.setStatus({
        code: SpanStatusCode.ERROR,
        message: `${failures.length} of ${failures.length + completed.length} tasks failed`,
      });
    }
    // Tasks with neither outcome (the queue failed mid-batch) come back when their lease runs out.
    for (const id of [...this.#tasks.keys()]) this.#end(id, "unsettled", "the batch could not be settled");
  }

  #end(id: string, outcome: string, error?: string): void {
    const span = this.#tasks.get(id);
    if (span === undefined) return;
    this.#tasks.delete(id);
    span.setAttribute(attr.outcome, outcome);
    if (error !== undefined) {
      const message = error.length > 512 ? `${error.slice(0, 512)}…` : error;
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      span.addEvent("task failed", { [attr.outcome]: outcome, "error.message": message });
    }
    span.end();
  }
}
