/** A positive whole number from the environment variable `name`, or `fallback` when it is unset; anything else stops the bench. */
export function positiveFromEnv(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
}
