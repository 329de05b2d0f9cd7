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
  const get = (f: string[], c: Column): string => {
    const i = at[c];
    return i === undefined ? "" : (f[i] ?? "").trim();
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
    },
    parse(line): TraceRecord {
      const f = splitCsv(line);
      if (f.length !== width) throw new Error(`expected ${width} fields, found ${f.length}`);
      const time = Math.round(parseNumber(get(f, "ts"), "ts") * 1000);
      const key = get(f, "key");
      let tenant = get(f, "tenant");
      let taskType = get(f, "task_type");
      let entity = get(f, "entity");
      const parts = key.split("/");
      if (parts.length >= 3 && /^[a-z][a-z0-9_]*$/.test(parts[1] ?? "")) {
        tenant ||= parts[0] ?? "";
        taskType ||= parts[1] ?? "";
        entity ||= decodeSafe(parts.slice(2).join("/"));
      }
      tenant ||= genericDefaults.tenant;
      taskType ||= genericDefaults.taskType;
      entity ||= key;
      const event = get(f, "event");
      validateTenant(tenant);
      if (event === "") {
        if (entity === "") throw new Error("a read needs a key or an entity");
        validateTaskTypeName(taskType);
        return makeRead(time, tenant, taskType, entity, get(f, "user"));
      }
      const launch = get(f, "launch_at");
      const anchor = launch === "" ? time : Math.round(parseNumber(launch, "launch_at") * 1000);
      return {
        kind: "event",
        time,
        tenant,
        entity: safeEntity(entity),
        user: get(f, "user"),
        event,
        taskType: get(f, "task_type"),
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
