import { cacheV1, type commonV1 } from "@prescient/contracts";
import { InvalidArgumentError, parseHumanKey } from "@prescient/core";
import { callUnary, featuresFromJson, featuresToProto, keyToProto } from "@prescient/kit";
import type { Command } from "commander";
import {
  type ClientFlags,
  type ClientTarget,
  clientCredentials,
  clientOptions,
  parsePositiveNumber,
  runClient,
  withClientFlags,
} from "../client-command.js";
import { print, printTable, resultToJson } from "../render.js";

function client(flags: ClientTarget): cacheV1.CacheServiceClient {
  return new cacheV1.CacheServiceClient(flags.addr, clientCredentials(flags), clientOptions(flags));
}

/** `--features '{"bid": 1.2, "country": "DE"}'`: a flat object of numbers and strings. */
export function parseFeatures(text: string | undefined): Record<string, commonV1.FeatureValue> {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new InvalidArgumentError(`--features is not valid JSON: ${(e as Error).message}`);
  }
  return featuresToProto(featuresFromJson(parsed, "--features"));
}

interface PutFlags {
  addr: string;
  timeout: number;
  json: string;
  ttl?: number;
  tag?: string[];
  model: string;
  modelVersion: string;
}

const onMissModes: Record<string, cacheV1.OnMiss> = {
  none: cacheV1.OnMiss.ON_MISS_NONE,
  enqueue: cacheV1.OnMiss.ON_MISS_ENQUEUE,
  compute: cacheV1.OnMiss.ON_MISS_COMPUTE,
};

export function registerCacheCommands(program: Command): void {
  withClientFlags(
    program
      .command("put")
      .description("store a result: put <tenant>/<type>/<entity> --json '<value>' (prints JSON)")
      .argument("<key>", "tenant/task_type/entity_id")
      .requiredOption("--json <value>", "the value, as JSON text")
      .option("--ttl <seconds>", "TTL instead of the task type's", parsePositiveNumber)
      .option("--tag <tag...>", "tags to invalidate by later")
      .option("--model <name>", "model name to record", "")
      .option("--model-version <version>", "model version to record", ""),
    // put's --json carries the value, and its output is always JSON.
    { jsonFlag: false },
  ).action(async (keyText: string, opts: PutFlags) =>
    runClient(async () => {
      try {
        JSON.parse(opts.json);
      } catch (e) {
        throw new InvalidArgumentError(`--json is not valid JSON: ${(e as Error).message}`);
      }
      const c = client(opts);
      const entry: cacheV1.PutEntry = {
        key: keyToProto(parseHumanKey(keyText)),
        value: { payload: Buffer.from(opts.json, "utf8"), contentType: "application/json" },
        modelName: opts.model,
        modelVersion: opts.modelVersion,
        computeMs: 0,
        inputDigest: "",
        tags: opts.tag ?? [],
        ...(opts.ttl !== undefined ? { ttlSeconds: opts.ttl } : {}),
      };
      const response = await callUnary(c.put.bind(c), { entry }, { timeoutMs: opts.timeout });
      c.close();
      print({ key: response.key, expires_at: response.expiresAt?.toISOString() ?? null }, true);
    }),
  );

  withClientFlags(
    program
      .command("lookup")
      .description("look a key up; prints the result with hit true or false")
      .argument("<key>", "tenant/task_type/entity_id")
      .option("--on-miss <mode>", "none, enqueue or compute", "none")
      .option("--reject-stale", "treat stale results as misses", false)
      .option("--features <json>", "entity features to compute from on a miss, as a JSON object"),
  ).action(
    async (
      keyText: string,
      opts: ClientFlags & { onMiss: string; rejectStale: boolean; features?: string },
    ) =>
      runClient(async () => {
        const onMiss = onMissModes[opts.onMiss];
        if (onMiss === undefined)
          throw new InvalidArgumentError(`--on-miss must be none, enqueue or compute`);
        const c = client(opts);
        const r = await callUnary(
          c.lookup.bind(c),
          {
            key: keyToProto(parseHumanKey(keyText)),
            onMiss,
            features: parseFeatures(opts.features),
            userId: "",
            rejectStale: opts.rejectStale,
          },
          { timeoutMs: opts.timeout },
        );
        c.close();
        print(
          {
            key: r.key,
            hit: r.hit,
            stale: r.stale,
            refresh_due: r.refreshDue,
            degraded: r.degraded,
            computed: r.computed,
            ...(r.taskId ? { task_id: r.taskId } : {}),
            ...(r.result ? resultToJson(r.result) : {}),
          },
          opts.json,
        );
      }),
  );

  withClientFlags(
    program
      .command("invalidate")
      .description(
        "remove entries: invalidate <tenant>/<pattern>, or <tenant> with --tag/--task-type/--model",
      )
      .argument(
        "<target>",
        "tenant/pattern (glob over task_type/entity_id), or a tenant ('' or '*' for all with --task-type/--model)",
      )
      .option("--tag <tag>", "remove entries with this tag")
      .option("--task-type <type>", "remove entries of this task type")
      .option("--prefix <prefix>", "remove entries whose task_type/entity_id starts with this")
      .option("--model <name>", "with --older-than: remove entries of this model")
      .option("--older-than <version>", "with --model: versions older than this"),
  ).action(
    async (
      target: string,
      opts: ClientFlags & {
        tag?: string;
        taskType?: string;
        prefix?: string;
        model?: string;
        olderThan?: string;
      },
    ) =>
      runClient(async () => {
        const slash = target.indexOf("/");
        const tenant = slash < 0 ? (target === "*" ? "" : target) : target.slice(0, slash);
        const request: cacheV1.InvalidateRequest = { tenant };
        const selectors = [slash >= 0, opts.tag, opts.taskType, opts.prefix, opts.model].filter(
          Boolean,
        ).length;
        if (selectors !== 1)
          throw new InvalidArgumentError(
            "give exactly one of tenant/pattern, --tag, --task-type, --prefix or --model",
          );
        if (slash >= 0) request.pattern = target.slice(slash + 1);
        else if (opts.tag !== undefined) request.tag = opts.tag;
        else if (opts.taskType !== undefined) request.taskType = opts.taskType;
        else if (opts.prefix !== undefined) request.prefix = opts.prefix;
        else if (opts.model !== undefined) {
          if (opts.olderThan === undefined) throw new InvalidArgumentError("--model needs --older-than");
          request.modelOlderThan = { modelName: opts.model, olderThanVersion: opts.olderThan };
        }
        const c = client(opts);
        const r = await callUnary(c.invalidate.bind(c), request, { timeoutMs: opts.timeout });
        c.close();
        print({ removed: Number(r.removed) }, opts.json);
      }),
  );

  withClientFlags(
    program
      .command("stats")
      .description("hits, misses, hit rate, entries and errors, per task type and tenant")
      .option("--tenant <tenant>", "only this tenant", "")
      .option("--task-type <type>", "only this task type", ""),
  ).action(async (opts: ClientFlags & { tenant: string; taskType: string }) =>
    runClient(async () => {
      const c = client(opts);
      const r = await callUnary(
        c.stats.bind(c),
        { tenant: opts.tenant, taskType: opts.taskType },
        {
          timeoutMs: opts.timeout,
        },
      );
      c.close();
      const counters = (x: cacheV1.Counters | undefined) => ({
        hits: Number(x?.hits ?? 0),
        stale_hits: Number(x?.staleHits ?? 0),
        misses: Number(x?.misses ?? 0),
        errors: Number(x?.errors ?? 0),
        hit_rate: x?.hitRate ?? 0,
      });
      const group = (g: cacheV1.GroupStats[]) => g.map((x) => ({ name: x.name, ...counters(x.counters) }));
      const json = {
        store: r.store,
        entries: Number(r.entries),
        bytes: Number(r.bytes),
        total: counters(r.total),
        by_task_type: group(r.byTaskType),
        by_tenant: group(r.byTenant),
      };
      if (opts.json) {
        print(json, true);
        return;
      }
      print({ store: json.store, entries: json.entries, bytes: json.bytes }, false);
      process.stdout.write("\n");
      const rows = [
        ["total", json.total] as const,
        ...json.by_task_type.map((g) => [`type ${g.name}`, g] as const),
        ...json.by_tenant.map((g) => [`tenant ${g.name}`, g] as const),
      ].map(([name, c]) => [
        name,
        c.hits,
        c.stale_hits,
        c.misses,
        c.errors,
        `${(c.hit_rate * 100).toFixed(1)}%`,
      ]);
      printTable(["scope", "hits", "stale", "misses", "errors", "hit rate"], rows);
    }),
  );
}
