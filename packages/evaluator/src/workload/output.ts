import { once } from "node:events";
import { createWriteStream } from "node:fs";
import {
  emptyStats,
  makeRead,
  type ReaderStats,
  type TraceRecord,
  type TraceSource,
} from "../trace/record.js";
import { csvHeader, csvLine, type Row } from "./row.js";

/** Writes rows as the generic CSV, with back-pressure. */
export async function writeCsv(path: string, rows: readonly Row[]): Promise<void> {
  const out = createWriteStream(path, { encoding: "utf8" });
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await once(out, "drain");
  };
  await write(`${csvHeader}\n`);
  let chunk = "";
  for (const r of rows) {
    chunk += `${csvLine(r)}\n`;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = "";
    }
  }
  await write(chunk);
  out.end();
  await once(out, "finish");
}

/** Generated rows replayed directly, as the generic CSV reader would read them. */
export class RowsTraceSource implements TraceSource {
  readonly name: string;
  readonly format = "generated";
  readonly stats: ReaderStats = emptyStats();
  readonly #rows: readonly Row[];

  constructor(name: string, rows: readonly Row[]) {
    this.name = name;
    this.#rows = rows;
  }

  async *records(): AsyncGenerator<TraceRecord> {
    for (const r of this.#rows) yield recordOf(r);
  }

  async *recordBatches(): AsyncGenerator<TraceRecord[]> {
    for (let i = 0; i < this.#rows.length; i += 4096) yield this.#rows.slice(i, i + 4096).map(recordOf);
  }
}

function recordOf(r: Row): TraceRecord {
  if (r.event === "") return makeRead(r.time, r.tenant, r.taskType, r.entity, r.user);
  return {
    kind: "event",
    time: r.time,
    tenant: r.tenant,
    entity: r.entity,
    user: r.user,
    event: r.event,
    taskType: r.taskType,
    anchor: Math.max(r.time, r.launchAt ?? r.time),
  };
}
