import { status } from "@grpc/grpc-js";

/**
 * The gRPC status name of a failed call. The client wraps gRPC errors in
 * domain errors with the gRPC error as `cause`; raw calls throw it directly.
 * Anything without a code (a local validation error) is named by its class.
 */
export function grpcCodeName(e: unknown): string {
  const code = codeOf(e) ?? codeOf((e as { cause?: unknown } | null)?.cause);
  if (code !== undefined) return status[code] ?? `CODE_${code}`;
  return e instanceof Error ? e.name : "UNKNOWN_THROWN";
}

function codeOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null | undefined)?.code;
  return typeof code === "number" ? code : undefined;
}

/** Calls and failures per RPC, failures by gRPC status name. */
export class ErrorCounts {
  readonly calls = new Map<string, number>();
  readonly errors = new Map<string, Map<string, number>>();
  /** First message seen per RPC and code, so the report says what went wrong, not only how often. */
  readonly samples = new Map<string, string>();

  ok(rpc: string): void {
    this.calls.set(rpc, (this.calls.get(rpc) ?? 0) + 1);
  }

  fail(rpc: string, e: unknown): void {
    this.ok(rpc);
    const name = grpcCodeName(e);
    let byCode = this.errors.get(rpc);
    if (byCode === undefined) {
      byCode = new Map();
      this.errors.set(rpc, byCode);
    }
    byCode.set(name, (byCode.get(name) ?? 0) + 1);
    const sampleKey = `${rpc} ${name}`;
    if (!this.samples.has(sampleKey))
      this.samples.set(sampleKey, (e instanceof Error ? e.message : String(e)).slice(0, 300));
  }

  toJSON(): Record<string, { calls: number; errors: Record<string, number> }> {
    const out: Record<string, { calls: number; errors: Record<string, number> }> = {};
    for (const [rpc, calls] of [...this.calls].sort(([a], [b]) => a.localeCompare(b)))
      out[rpc] = { calls, errors: Object.fromEntries(this.errors.get(rpc) ?? []) };
    return out;
  }
}
