import { precomputerV1 } from "@prescient/contracts";
import { InvalidArgumentError } from "@prescient/core";
import { callUnary } from "@prescient/kit";
import type { Command } from "commander";
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

function client(flags: ClientTarget): precomputerV1.PrecomputerServiceClient {
  return new precomputerV1.PrecomputerServiceClient(
    flags.addr,
    clientCredentials(flags),
    clientOptions(flags),
  );
}

const queuedJson = (q: precomputerV1.QueuedTasks[]) =>
  Object.fromEntries(q.map((x) => [x.taskType, x.taskIds]));

const statusNames: Record<number, string> = {
  [precomputerV1.RunStatus.RUN_STATUS_RUNNING]: "running",
  [precomputerV1.RunStatus.RUN_STATUS_SUCCEEDED]: "succeeded",
  [precomputerV1.RunStatus.RUN_STATUS_FAILED]: "failed",
};

function runJson(r: precomputerV1.ScheduleRun) {
  return {
    schedule: r.schedule,
    window_start: r.windowStart?.toISOString() ?? null,
    started_at: r.startedAt?.toISOString() ?? null,
    finished_at: r.finishedAt?.toISOString() ?? null,
    status: statusNames[r.status] ?? "unknown",
    items: Number(r.items),
    owner: r.owner,
    error: r.error,
  };
}

/** The most runs ListRuns answers with. */
const maxListedRuns = 1000;

/**
 * A run that succeeded having nothing to do (0 tasks enqueued, 0 records
 * removed): the routine beat of an interval schedule, e.g. readahead every
 * second while nobody reads. The run store keeps them (each is the claim that
 * makes its window run once across replicas, and the store bounds them per
 * schedule), but they would bury the runs that did something.
 */
const isEmptyRun = (r: precomputerV1.ScheduleRun): boolean =>
  r.status === precomputerV1.RunStatus.RUN_STATUS_SUCCEEDED && Number(r.items) === 0;

/** `--attr key=value` pairs. */
function parseAttributes(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`--attr ${JSON.stringify(p)} is not key=value`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export function registerPrecomputerCommands(program: Command): void {
  withClientFlags(
    program
      .command("trigger")
      .description("report an event; prints the queued task ids per task type")
      .argument("<event>", "event type, e.g. video_uploaded, campaign_created, user_login")
      .requiredOption("--tenant <tenant>", "tenant of the event")
      .option("--entity <id>", "entity the event is about", "")
      .option("--user <id>", "user who caused it", "")
      .option("--features <json>", "the entity's features, as a JSON object of numbers and strings")
      .option("--attr <key=value...>", "event attributes")
      .option("--related <id...>", "entities the event concerns, related to its user and entity"),
  ).action(
    async (
      type: string,
      opts: ClientFlags & {
        tenant: string;
        entity: string;
        user: string;
        features?: string;
        attr?: string[];
        related?: string[];
      },
    ) =>
      runClient(async () => {
        const c = client(opts);
        const r = await callUnary(
          c.trigger.bind(c),
          {
            event: {
              type,
              tenant: opts.tenant,
              entityId: opts.entity,
              userId: opts.user,
              features: parseFeatures(opts.features),
              attributes: parseAttributes(opts.attr),
              relatedEntityIds: opts.related ?? [],
            },
          },
          { timeoutMs: opts.timeout },
        );
        c.close();
        print({ queued: queuedJson(r.queued), skipped_fresh: r.skippedFresh }, opts.json);
      }),
  );

  withClientFlags(
    program
      .command("warm")
      .description("enqueue entities x task types now, e.g. to warm a campaign before it launches")
      .requiredOption("--tenant <tenant>", "tenant")
      .requiredOption("--entity <id...>", "entity ids")
      .requiredOption("--task-type <type...>", "task types")
      .option("--priority <1-10>", "priority (default: each type's)", parsePositiveInt),
  ).action(
    async (opts: ClientFlags & { tenant: string; entity: string[]; taskType: string[]; priority?: number }) =>
      runClient(async () => {
        const c = client(opts);
        const r = await callUnary(
          c.warm.bind(c),
          {
            tenant: opts.tenant,
            entityIds: opts.entity,
            taskTypes: opts.taskType,
            priority: opts.priority ?? 0,
          },
          { timeoutMs: opts.timeout },
        );
        c.close();
        print({ queued: queuedJson(r.queued) }, opts.json);
      }),
  );

  withClientFlags(
    program
      .command("runs")
      .description("schedule run history, newest first; runs that found nothing to do are hidden")
      .option("--schedule <name>", "only this schedule", "")
      .option("--limit <n>", "runs to show", parsePositiveInt, 20)
      .option("--all", "also show runs that succeeded with nothing to do (0 items)", false),
  ).action(async (opts: ClientFlags & { schedule: string; limit: number; all: boolean }) =>
    runClient(async () => {
      const c = client(opts);
      // Hiding empty runs needs a longer page: a one-second schedule is mostly empty runs.
      const r = await callUnary(
        c.listRuns.bind(c),
        { schedule: opts.schedule, limit: opts.all ? opts.limit : maxListedRuns },
        { timeoutMs: opts.timeout },
      );
      c.close();
      const shown = opts.all ? r.runs : r.runs.filter((run) => !isEmptyRun(run));
      const runs = shown.slice(0, opts.limit).map(runJson);
      if (opts.json) {
        print({ runs }, true);
        return;
      }
      printTable(
        ["schedule", "window", "status", "items", "owner", "started", "error"],
        runs.map((x) => [
          x.schedule,
          x.window_start ?? "",
          x.status,
          x.items,
          x.owner,
          x.started_at ?? "",
          x.error,
        ]),
      );
      const hidden = r.runs.length - shown.length;
      if (hidden > 0) process.stdout.write(`(${hidden} runs with nothing to do hidden; --all shows them)\n`);
    }),
  );

  const schedule = program.command("schedule").description("schedules of the precomputer");
  withClientFlags(
    schedule
      .command("run")
      .description("run a schedule now, by hand (in a window of its own); prints the finished run")
      .argument(
        "<name>",
        "schedule name, e.g. daily_top_n, launch_warming, analysis, cleanup, refresh_ahead",
      ),
  ).action(async (name: string, opts: ClientFlags) =>
    runClient(async () => {
      const c = client(opts);
      const r = await callUnary(c.runScheduleNow.bind(c), { schedule: name }, { timeoutMs: opts.timeout });
      c.close();
      print(r.run ? runJson(r.run) : {}, opts.json);
      if (r.run?.status === precomputerV1.RunStatus.RUN_STATUS_FAILED) process.exitCode = 1;
    }),
  );
}
