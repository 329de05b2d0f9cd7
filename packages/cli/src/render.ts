import type { commonV1 } from "@prescient/contracts";

/** Plain-JSON form of a stored result, for `--json` output and humans alike. */
export function resultToJson(result: commonV1.Result): Record<string, unknown> {
  return {
    value: valueToJson(result.value),
    model_name: result.modelName,
    model_version: result.modelVersion,
    computed_at: result.computedAt?.toISOString() ?? null,
    expires_at: result.expiresAt?.toISOString() ?? null,
    compute_ms: result.computeMs,
    input_digest: result.inputDigest,
    tags: result.tags,
  };
}

export function valueToJson(value: commonV1.Value | undefined): unknown {
  if (value === undefined) return null;
  if (value.tensors !== undefined) {
    return Object.fromEntries(
      value.tensors.tensors.map((t) => [
        t.name,
        { datatype: t.datatype, shape: t.shape.map(Number), data: t.data },
      ]),
    );
  }
  if (value.payload !== undefined) {
    const text = Buffer.from(value.payload).toString("utf8");
    if (value.contentType === "application/json") {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }
    return value.contentType.startsWith("text/") ? text : Buffer.from(value.payload).toString("base64");
  }
  return null;
}

/** Prints a value as JSON or as aligned `name: value` lines. */
export function print(value: Record<string, unknown>, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(value).map((k) => k.length));
  for (const [k, v] of Object.entries(value)) {
    const shown = typeof v === "string" ? v : JSON.stringify(v);
    process.stdout.write(`${k.padEnd(width)}  ${shown}\n`);
  }
}

/** Prints rows as an aligned text table. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  for (const row of cells) {
    process.stdout.write(
      `${row
        .map((c, i) => (c ?? "").padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
  }
}
