import { InvalidArgumentError } from "@prescient/core";

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as configuration writes it: `90s`, `5m`, `2h`, `1d`, `250ms`,
 * or a bare number of seconds. Answers milliseconds.
 */
export function parseDuration(value: string | number, field = "duration"): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value <= 0)
      throw new InvalidArgumentError(`${field} must be a positive number of seconds`);
    return value * 1000;
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (m === null)
    throw new InvalidArgumentError(
      `${field} ${JSON.stringify(value.slice(0, 40))} is not a duration like 30s, 5m, 2h or 1d`,
    );
  const ms = Number(m[1]) * (units[m[2] ?? "s"] ?? 1000);
  if (!(ms > 0)) throw new InvalidArgumentError(`${field} must be positive`);
  return ms;
}
