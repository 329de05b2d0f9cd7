import { validateTaskTypeName, validateTenant } from "@prescient/core";
import type { LineParser } from "./line-source.js";
import { parseNumber, splitCsv } from "./lines.js";
import { makeRead, safeEntity, type TraceRecord } from "./record.js";

/**
 * The generic CSV: a header with at least `ts` (seconds, may be fractional)
 * and `key`; optional `tenant`, `user`, `task_type`, `entity`, `event`, and
 * `launch_at` (seconds: when the reads an event announces begin, e.g. a
 * campaign launch). A row with a non-empty `event` is a trigger, not a read.
 *
 * A key of the canonical form `tenant/task_type/entity` supplies whichever of
 * those columns are absent; any other key is an entity of the default tenant
 * and task type.
 */
export const genericDefaults = { tenant: "default", taskType: "object" } as const;

const known = ["ts", "key", "tenant", "user", "task_type", "entity", "event", "launch_at"] as const;
type Column = (typeof known)[number];

export function genericCsvParser(): LineParser {
  const at: Partial<Record<Column, number>> = {};
  let width = 0;
  // Column positions (-1: absent), worked out from the header once rather than looked up by name per line.
  let ts = -1;
  let keyAt = -1;
  let tenantAt = -1;
  let userAt = -1;
  let typeAt = -1;
  let entityAt = -1;
  let eventAt = -1;
  let launchAt = -1;
  const get = (f: string[], i: number): string => (i < 0 ? "" : (f[i] ?? "").trim());
  // Names already validated, each held once: a trace names a handful of tenants and task types
  // millions of times, and every map downstream compares one string object faster than equal copies.
  const tenants = new Map<string, string>();
  const taskTypes = new Map<string, string>();
  const valid = (seen: Map<string, string>, name: string, validate: (n: string) => string): string => {
    const known = seen.get(name);
    if (known !== undefined) return known;
    validate(name);
    if (seen.size >= 4096) seen.clear();
    seen.set(name, name);
    return name;
  };
  return {
    header(line) {
      const names = splitCsv(line).map((h) => h.trim().toLowerCase());
      width = names.length;
      names.forEach((n, i) => {
        if ((known as readonly string[]).includes(n)) at[n as Column] = i;
      });
      if (at.ts === undefined || at.key === undefined)
        throw new Error(`header ${JSON.stringify(line.slice(0, 120))} lacks the required ts and key columns`);
      ts = at.ts;
      keyAt = at.key;
      tenantAt = at.tenant ?? -1;
      userAt = at.user ?? -1;
      typeAt = at.task_type ?? -1;
      entityAt = at.entity ?? -1;
      eventAt = at.event ?? -1;
      launchAt = at.launch_at ?? -1;
    },
    parse(line): TraceRecord {
      const f = splitCsv(line);
      if (f.length !== width) throw new Error(`expected ${width} fields, found ${f.length}`);
      const time = Math.round(parseNumber(get(f, ts), "ts") * 1000);
      const key = get(f, keyAt);
      let tenant = get(f, tenantAt);
      let taskType = get(f, typeAt);
      let entity = get(f, entityAt);
      // Only a key of the canonical form fills in the columns left empty.
      if (tenant === "" || taskType === "" || entity === "") {
        const parts = key.split("/");
        if (parts.length >= 3 && /^[a-z][a-z0-9_]*$/.test(parts[1] ?? "")) {
          tenant ||= parts[0] ?? "";
          taskType ||= parts[1] ?? "";
          entity ||= decodeSafe(parts.slice(2).join("/"));
        }
      }
      tenant ||= genericDefaults.tenant;
      taskType ||= genericDefaults.taskType;
      entity ||= key;
      const event = get(f, eventAt);
      tenant = valid(tenants, tenant, validateTenant);
      if (event === "") {
        if (entity === "") throw new Error("a read needs a key or an entity");
        taskType = valid(taskTypes, taskType, validateTaskTypeName);
        return makeRead(time, tenant, taskType, entity, get(f, userAt));
      }
      const launch = get(f, launchAt);
      const anchor = launch === "" ? time : Math.round(parseNumber(launch, "launch_at") * 1000);
      return {
        kind: "event",
        time,
        tenant,
        entity: safeEntity(entity),
        user: get(f, userAt),
        event,
        taskType: get(f, typeAt),
        anchor: Math.max(anchor, time),
      };
    },
  };
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
