import { type commonV1, executorV1 } from "@prescient/contracts";
import { formatKey, InvalidArgumentError, isTaskReason, parseHumanKey, taskReasons } from "@prescient/core";
import { isTaskId } from "@prescient/executor";
import { callUnary, keyToProto, reasonLabel, reasonToProto } from "@prescient/kit";
import { type Command, InvalidArgumentError as UsageError } from "commander";
import {
  type ClientFlags,
  type ClientTarget,
  clientCredentials,
  clientOptions,
  parsePositiveInt,
  runClient,
  withClientFlags,
} from "../client-command.js";
import { print, printTable } from "../render.js";
import { parseFeatures } from "./cache.js";

/** `prescient enqueue`, `task`, `dlq` and `queue-stats`: the executor's task queue from the shell. */
function client(flags: ClientTarget): executorV1.ExecutorServiceClient {
  return new executorV1.ExecutorServiceClient(flags.addr, clientCredentials(flags), clientOptions(flags));
}

/** Runs one call on a fresh client and closes it, whatever the outcome. */
async function withExecutor<T>(
  flags: ClientTarget,
  call: (c: executorV1.ExecutorServiceClient) => Promise<T>,
): Promise<T> {
  const c = client(flags);
  try {
    return await call(c);
  } finally {
    c.close();
  }
}

const stateName = (s: executorV1.TaskState): string =>
  (executorV1.TaskState[s] ?? String(s)).replace("TASK_STATE_", "").toLowerCase();

// Option parsers throw commander's error, which prints usage and exits 2.
function parsePriority(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10)
    throw new UsageError(`expected an integer from 1 to 10, got ${text}`);
  return n;
}

function parseReason(text: string): commonV1.TaskReason {
  if (!isTaskReason(text))
    throw new InvalidArgumentError(
      `--reason must be one of ${taskReasons.join(", ")}, got ${text.slice(0, 40)}`,
    );
  return reasonToProto(text);
}

function parseTime(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const time = new Date(text);
  if (Number.isNaN(time.getTime()))
    throw new InvalidArgumentError(`--not-before ${JSON.stringify(text)} is not an ISO 8601 time`);
  return time;
}

export function taskToJson(t: executorV1.Task): Record<string, unknown> {
  return {
    id: t.id,
    key: t.key,
    task_type: t.taskType,
    tenant: t.tenant,
    state: stateName(t.state),
    priority: t.priority,
    reasons: t.reasons.map(reasonLabel),
    attempts: t.attempts,
    created_at: t.createdAt?.toISOString() ?? null,
    updated_at: t.updatedAt?.toISOString() ?? null,
    not_before: t.notBefore?.toISOString() ?? null,
    last_error: t.lastError,
    traceparent: t.traceparent,
  };
}

function countsToJson(c: executorV1.StateCounts | undefined): Record<string, number> {
  return {
    queued: Number(c?.queued ?? 0),
    delayed: Number(c?.delayed ?? 0),
    processing: Number(c?.processing ?? 0),
    completed: Number(c?.completed ?? 0),
    failed: Number(c?.failed ?? 0),
    dead: Number(c?.dead ?? 0),
  };
}

/** `--all` or ids, exactly one of them. */
function selector(ids: string[], all: boolean): { ids: string[]; all: boolean } {
  if (all === ids.length > 0)
    throw new InvalidArgumentError("give task ids or --all, not both and not neither");
  return { ids, all };
}

export function registerExecutorCommands(program: Command): void {
  withClientFlags(
    program
      .command("enqueue")
      .description("queue a task: enqueue <tenant>/<type>/<entity> (features are stored for the entity)")
      .argument("<key>", "tenant/task_type/entity_id")
      .option("--priority <n>", "1 (lowest) to 10 (critical); default the task type's", parsePriority)
      .option("--reason <reason>", taskReasons.join(", "), "manual")
      .option("--features <json>", "entity features, as a JSON object of numbers and strings")
      .option("--not-before <iso>", "not run before this time (ISO 8601)"),
  ).action(
    async (
      keyText: string,
      opts: ClientFlags & {
        priority?: number;
        reason: string;
        features?: string;
        notBefore?: string;
      },
    ) =>
      runClient(async () => {
        const notBefore = parseTime(opts.notBefore);
        const task: executorV1.TaskSpec = {
          key: keyToProto(parseHumanKey(keyText)),
          priority: opts.priority ?? 0,
          reason: parseReason(opts.reason),
          features: parseFeatures(opts.features),
          ...(notBefore !== undefined ? { notBefore } : {}),
        };
        const r = await withExecutor(opts, (c) =>
          callUnary(c.enqueue.bind(c), { task }, { timeoutMs: opts.timeout }),
        );
        print({ task_id: r.taskId, deduplicated: r.deduplicated }, opts.json);
      }),
  );

  withClientFlags(
    program
      .command("task")
      .description("show a task's state, attempts and last error, by id or by key")
      .argument("<id-or-key>", "a task id, or tenant/task_type/entity_id for the key's newest task"),
  ).action(async (target: string, opts: ClientFlags) =>
    runClient(async () => {
      const request: executorV1.GetTaskRequest = isTaskId(target)
        ? { id: target }
        : { key: formatKey(parseHumanKey(target)) };
      const r = await withExecutor(opts, (c) =>
        callUnary(c.getTask.bind(c), request, { timeoutMs: opts.timeout }),
      );
      if (r.task === undefined) throw new InvalidArgumentError("the executor answered without a task");
      print(taskToJson(r.task), opts.json);
    }),
  );

  withClientFlags(
    program
      .command("queue-stats")
      .description("tasks by state, task type and priority; capacity and whether the queue is paused"),
  ).action(async (opts: ClientFlags) =>
    runClient(async () => {
      const r = await withExecutor(opts, (c) =>
        callUnary(c.queueStats.bind(c), {}, { timeoutMs: opts.timeout }),
      );
      const json = {
        paused: r.paused,
        capacity: Number(r.capacity),
        total: countsToJson(r.total),
        by_task_type: r.byTaskType.map((t) => ({ task_type: t.taskType, ...countsToJson(t.counts) })),
        by_priority: r.byPriority.map((p) => ({ priority: p.priority, queued: Number(p.queued) })),
      };
      if (opts.json) {
        print(json, true);
        return;
      }
      print({ paused: json.paused, capacity: json.capacity }, false);
      process.stdout.write("\n");
      const states = ["queued", "delayed", "processing", "completed", "failed", "dead"];
      printTable(
        ["scope", ...states],
        [
          ["total", ...states.map((s) => json.total[s] ?? 0)],
          ...json.by_task_type.map((t) => [
            t.task_type,
            ...states.map((s) => (t as Record<string, number | string>)[s] ?? 0),
          ]),
        ],
      );
      if (json.by_priority.length > 0) {
        process.stdout.write("\n");
        printTable(
          ["priority", "queued"],
          json.by_priority.map((p) => [p.priority, p.queued]),
        );
      }
    }),
  );

  const dlq = program.command("dlq").description("dead letters: tasks out of attempts");

  withClientFlags(
    dlq
      .command("list")
      .description("list dead tasks, oldest death first")
      .option("--page-size <n>", "tasks per page (at most 1000)", parsePositiveInt, 100)
      .option("--page-token <token>", "next_page_token of the previous page", ""),
  ).action(async (opts: ClientFlags & { pageSize: number; pageToken: string }) =>
    runClient(async () => {
      const r = await withExecutor(opts, (c) =>
        callUnary(
          c.listDeadLetters.bind(c),
          { pageSize: opts.pageSize, pageToken: opts.pageToken },
          { timeoutMs: opts.timeout },
        ),
      );
      if (opts.json) {
        print({ tasks: r.tasks.map(taskToJson), next_page_token: r.nextPageToken }, true);
        return;
      }
      printTable(
        ["id", "key", "attempts", "updated", "last error"],
        r.tasks.map((t) => [t.id, t.key, t.attempts, t.updatedAt?.toISOString() ?? "", t.lastError]),
      );
      if (r.nextPageToken) process.stdout.write(`\nmore: --page-token ${r.nextPageToken}\n`);
    }),
  );

  for (const [verb, description] of [
    ["requeue", "move dead tasks back to the queue with fresh attempts"],
    ["purge", "delete dead tasks"],
  ] as const) {
    withClientFlags(
      dlq
        .command(verb)
        .description(`${description}: ${verb} <id...> or ${verb} --all`)
        .argument("[ids...]", "task ids")
        .option("--all", "every dead task", false),
    ).action(async (ids: string[], opts: ClientFlags & { all: boolean }) =>
      runClient(async () => {
        const request = selector(ids, opts.all);
        const count = await withExecutor(opts, async (c) =>
          verb === "requeue"
            ? (await callUnary(c.requeueDeadLetters.bind(c), request, { timeoutMs: opts.timeout })).requeued
            : (await callUnary(c.purgeDeadLetters.bind(c), request, { timeoutMs: opts.timeout })).purged,
        );
        print({ [verb === "requeue" ? "requeued" : "purged"]: Number(count) }, opts.json);
      }),
    );
  }
}
