import { readFileSync } from "node:fs";
import {
  createFileRegistry,
  type DescMessage,
  type DescMethod,
  type FileRegistry,
  fromBinary,
  toJson,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import fc, { type Arbitrary } from "fast-check";
import { concat, mutated } from "./byte-mutation.js";
import { MessageArbitraries } from "./descriptor-arbitrary.js";
import type { Outcome, RawClient } from "./raw-client.js";
import { validHints } from "./valid-hints.js";

/** One RPC under test, as the descriptor set declares it. */
export interface FuzzTarget {
  path: string;
  method: DescMethod;
  clientStreaming: boolean;
}

/** How a request was made, so a failure report says which generator found it. */
export type CaseKind = "valid" | "wild" | "merged" | "mutated";

export interface FuzzCase {
  kind: CaseKind;
  /** One message for unary calls; the stream's messages for client-streaming ones. */
  messages: Uint8Array[];
}

/** The services `prescient up` serves that a client calls: health and reflection are grpc-js's. */
const fuzzedPackages = /^(prescient\.|inference\.)/;

export function loadRegistry(): FileRegistry {
  const bytes = readFileSync(new URL("../../packages/contracts/descriptor-set.binpb", import.meta.url));
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
}

/**
 * Every unary and client-streaming method of the fuzzed services. Those that
 * throw state away (unload, pause, purge, cleanup) go last, so the others are
 * fuzzed against a mesh with its models loaded and its queue running.
 */
export function fuzzTargets(registry: FileRegistry): FuzzTarget[] {
  const targets: FuzzTarget[] = [];
  for (const file of registry.files) {
    for (const service of file.services) {
      if (!fuzzedPackages.test(service.typeName)) continue;
      for (const method of service.methods) {
        if (method.methodKind !== "unary" && method.methodKind !== "client_streaming") continue;
        targets.push({
          path: `/${service.typeName}/${method.name}`,
          method,
          clientStreaming: method.methodKind === "client_streaming",
        });
      }
    }
  }
  const last = /\/(UnloadModel|Pause|PurgeDeadLetters|Cleanup)$/;
  return targets.sort((a, b) => Number(last.test(a.path)) - Number(last.test(b.path)));
}

const arbitraries = new MessageArbitraries(validHints);

/** One request message: from the descriptor, merged from two, or a valid encoding mutated. */
function messageBytes(input: DescMessage): Arbitrary<{ kind: CaseKind; bytes: Uint8Array }> {
  const valid = arbitraries.bytes(input, "valid");
  const wild = arbitraries.bytes(input, "wild");
  const tag = (kind: CaseKind) => (bytes: Uint8Array) => ({ kind, bytes });
  return fc.oneof(
    { weight: 4, arbitrary: valid.map(tag("valid")) },
    { weight: 3, arbitrary: wild.map(tag("wild")) },
    // Two encodings back to back are one message on the wire: the later oneof member wins,
    // repeated fields append and nested messages merge, which no typed client produces.
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.oneof(valid, wild)).map(([a, b]) => tag("merged")(concat(a, b))),
    },
    { weight: 2, arbitrary: mutated(valid).map(tag("mutated")) },
  );
}

export function caseArbitrary(target: FuzzTarget): Arbitrary<FuzzCase> {
  const one = messageBytes(target.method.input);
  if (!target.clientStreaming) return one.map(({ kind, bytes }) => ({ kind, messages: [bytes] }));
  return fc.array(one, { maxLength: 4 }).map((ms) => ({
    kind: ms.find((m) => m.kind === "mutated")?.kind ?? ms[0]?.kind ?? "valid",
    messages: ms.map((m) => m.bytes),
  }));
}

/**
 * grpc-js answers INTERNAL "Error deserializing request" itself when the
 * generated decoder rejects the bytes: the handler never runs. Only a
 * mutated encoding may get that answer (decoders differ on malformed input,
 * so no reference decoder decides); one built from the descriptor must reach
 * the handler.
 */
function undecodable(o: Outcome): boolean {
  return o.code === status.INTERNAL && o.details.startsWith("Error deserializing request");
}

/** Why an outcome is a failure, or undefined when it is an acceptable answer. */
export function failureOf(c: FuzzCase, o: Outcome): string | undefined {
  if (undecodable(o)) {
    return c.kind === "mutated" ? undefined : "the generated decoder rejected a well-formed encoding";
  }
  if (o.code === status.INTERNAL || o.code === status.UNKNOWN) return `${status[o.code]}: ${o.details}`;
  if (o.code === status.DEADLINE_EXCEEDED) return `no answer within the deadline (${Math.round(o.ms)} ms)`;
  // UNAVAILABLE may be a handler's answer (a peer not ready); a dead process is caught by the
  // health check after each RPC.
  return undefined;
}

/** The status name an outcome counts under in the report. */
export function mixKey(o: Outcome): string {
  return undecodable(o) ? "INTERNAL(undecodable)" : status[o.code];
}

export interface RpcReport {
  path: string;
  runs: number;
  mix: Record<string, number>;
  ms: number;
  /** The commonest answers other than OK to "valid" requests, with their counts. */
  validRejections: [string, number][];
  /** The first failing case, as sent (hex and JSON), with fast-check's seed. */
  failure?: string;
}

export interface FuzzOptions {
  numRuns: number;
  seed: number;
  deadlineMs: number;
  /** Cases that once failed, run before the generated ones. */
  examples?: FuzzCase[];
}

export async function fuzzRpc(
  client: RawClient,
  target: FuzzTarget,
  options: FuzzOptions,
): Promise<RpcReport> {
  const mix: Record<string, number> = {};
  /** Why "valid" requests were turned away: the hints to improve when few get through. */
  const rejections = new Map<string, number>();
  let failed: string | undefined;
  const started = performance.now();
  const property = fc.asyncProperty(caseArbitrary(target), async (c) => {
    const o = target.clientStreaming
      ? await client.clientStream(target.path, c.messages, options.deadlineMs)
      : await client.unary(target.path, c.messages[0]!, options.deadlineMs);
    const key = mixKey(o);
    mix[key] = (mix[key] ?? 0) + 1;
    if (c.kind === "valid" && o.code !== status.OK) {
      const d = `${key}: ${o.details.slice(0, 120)}`;
      rejections.set(d, (rejections.get(d) ?? 0) + 1);
    }
    const failure = failureOf(c, o);
    if (failure) {
      failed = `${target.path} (${c.kind} request): ${failure}\n${describeCase(target.method.input, c)}`;
      throw new Error(failed);
    }
  });
  const details = await fc.check(property, {
    numRuns: options.numRuns,
    seed: options.seed,
    examples: (options.examples ?? []).map((e) => [e] as [FuzzCase]),
    // No shrinking: a hang would cost a whole deadline per step, and the case is reported as sent.
    endOnFailure: true,
  });
  const report: RpcReport = {
    path: target.path,
    runs: details.numRuns,
    mix,
    ms: performance.now() - started,
    validRejections: [...rejections].sort((a, b) => b[1] - a[1]).slice(0, 3),
  };
  if (details.failed) report.failure = `${failed ?? String(details.errorInstance)}\n(seed ${details.seed})`;
  return report;
}

/** The request as hex and, where it decodes, as proto JSON, cut to a readable length. */
export function describeCase(input: DescMessage, c: FuzzCase): string {
  const cut = (s: string) => (s.length > 1_500 ? `${s.slice(0, 1_500)}... (${s.length} chars)` : s);
  return c.messages
    .map((m) => {
      let json = "(does not decode)";
      try {
        json = JSON.stringify(toJson(input, fromBinary(input, m)));
      } catch {}
      return `  hex ${cut(Buffer.from(m).toString("hex"))}\n  json ${cut(json)}`;
    })
    .join("\n");
}

/** A seed per RPC from one base seed, so adding an RPC does not change the others' cases. */
export function seedOf(base: number, path: string): number {
  let h = base | 0;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16_777_619);
  return h | 0;
}

/** Status-code mix per RPC and in total, as a table. */
export function formatReport(reports: RpcReport[], verbose = false): string {
  const codes = [...new Set(reports.flatMap((r) => Object.keys(r.mix)))].sort();
  const total: Record<string, number> = {};
  const lines = reports.map((r) => {
    for (const [k, n] of Object.entries(r.mix)) total[k] = (total[k] ?? 0) + n;
    const mix = codes.filter((c) => r.mix[c]).map((c) => `${c}=${r.mix[c]}`);
    const why = verbose ? r.validRejections.map(([d, n]) => `\n    ${n}x ${d}`).join("") : "";
    return `${r.path.padEnd(58)} ${String(r.runs).padStart(6)} ${(r.ms / 1000).toFixed(1).padStart(6)}s  ${mix.join(" ")}${why}`;
  });
  const all = reports.reduce((n, r) => n + r.runs, 0);
  const secs = reports.reduce((n, r) => n + r.ms, 0) / 1000;
  const totals = codes.map((c) => `${c}=${total[c] ?? 0}`).join(" ");
  return [
    ...lines,
    `${"TOTAL".padEnd(58)} ${String(all).padStart(6)} ${secs.toFixed(1).padStart(6)}s  ${totals}`,
  ].join("\n");
}
