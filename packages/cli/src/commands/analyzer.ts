import { analyzerV1 } from "@prescient/contracts";
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

function client(flags: ClientTarget): analyzerV1.AnalyzerServiceClient {
  return new analyzerV1.AnalyzerServiceClient(flags.addr, clientCredentials(flags), clientOptions(flags));
}

const keyByNames: Record<number, string> = {
  [analyzerV1.KeyBy.KEY_BY_ENTITY]: "entity",
  [analyzerV1.KeyBy.KEY_BY_USER]: "user",
  [analyzerV1.KeyBy.KEY_BY_RELATED]: "related",
};

/** A delay for people: 350ms, 4.2s, 3.5m. */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${(ms / 60_000).toFixed(1)}m`;
}

function ruleJson(r: analyzerV1.LearnedRule) {
  return {
    tenant: r.tenant,
    event: r.event,
    support: r.support,
    targets: r.targets.map((t) => ({
      task_type: t.taskType,
      key_by: keyByNames[t.keyBy] ?? "unspecified",
      probability: t.probability,
      mean_delay_ms: t.meanDelayMs,
    })),
  };
}

/** `prescient rules` and `prescient related`: what the analyzer learned from events and reads. */
export function registerAnalyzerCommands(program: Command): void {
  withClientFlags(
    program
      .command("rules")
      .description(
        "fan-out rules the analyzer learned: per event, the task types read after it, keyed by what, how likely and how soon",
      )
      .option("--tenant <tenant>", "one tenant's rules (default: every tenant's)", ""),
  ).action(async (opts: ClientFlags & { tenant: string }) =>
    runClient(async () => {
      const c = client(opts);
      const r = await callUnary(
        c.learnedRules.bind(c),
        { tenant: opts.tenant },
        { timeoutMs: opts.timeout },
      ).finally(() => c.close());
      const rules = r.rules.map(ruleJson);
      if (opts.json) {
        print({ rules }, true);
        return;
      }
      if (rules.length === 0) {
        process.stdout.write("no learned rules yet (events need reads after them, and enough support)\n");
        return;
      }
      printTable(
        ["tenant", "event", "support", "task_type", "key_by", "probability", "mean_delay"],
        rules.flatMap((x) => {
          const head = [x.tenant, x.event, x.support.toFixed(1)];
          // A supported event with no target: its results go unread.
          if (x.targets.length === 0) return [[...head, "-", "-", "-", "-"]];
          return x.targets.map((t) => [
            ...head,
            t.task_type,
            t.key_by,
            t.probability.toFixed(2),
            formatDelay(t.mean_delay_ms),
          ]);
        }),
      );
    }),
  );

  withClientFlags(
    program
      .command("related")
      .description("entities the analyzer relates to a user or an entity, strongest first")
      .argument("<subject>", "a user id or an entity id")
      .requiredOption("--tenant <tenant>", "tenant")
      .option("--task-type <type>", "only entities of the kind this task type is read for", "")
      .option("--limit <n>", "at most this many (up to 1000)", parsePositiveInt, 10),
  ).action(async (subject: string, opts: ClientFlags & { tenant: string; taskType: string; limit: number }) =>
    runClient(async () => {
      const c = client(opts);
      const r = await callUnary(
        c.relatedEntities.bind(c),
        { tenant: opts.tenant, subject, limit: opts.limit, taskType: opts.taskType },
        { timeoutMs: opts.timeout },
      ).finally(() => c.close());
      const entities = r.entities.map((e) => ({ entity_id: e.entityId, weight: e.weight }));
      if (opts.json) {
        print({ entities }, true);
        return;
      }
      if (entities.length === 0) {
        process.stdout.write(`nothing related to ${subject} in ${opts.tenant}\n`);
        return;
      }
      printTable(
        ["entity_id", "weight"],
        entities.map((e) => [e.entity_id, e.weight.toFixed(2)]),
      );
    }),
  );
}
