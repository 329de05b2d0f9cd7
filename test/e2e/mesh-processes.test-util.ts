import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitForServing } from "@prescient/kit";
import { freePort, freePorts } from "@prescient/kit/testing";

/** The built CLI, as `npm start` runs it. */
export const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));

/** A process's part in the mesh: a service (`serve <role>`), or the reference task handler. */
export type Role = "predictor" | "cache" | "executor" | "precomputer" | "analyzer" | "handler";

/** Roles a split mesh may run several processes of. */
export type ReplicatedRole = "cache" | "executor" | "precomputer" | "analyzer";

/** One process of a mesh. */
export interface MeshProcess {
  role: Role;
  /** Its place among its role's replicas, from 0. */
  index: number;
  addr: string;
  pid: number | undefined;
  /** What it wrote to stdout (its JSON log lines) so far; empty unless its role was in `keepStdout`. */
  output(): string;
  /** How it ended (`code 1`, `signal SIGKILL`), or undefined while it runs. */
  exited(): string | undefined;
}

export interface MeshProcesses {
  /**
   * Address of each service; all the same for `prescient up`. The analyzer and
   * the task handler are set only where the split was asked for them
   * (SplitOptions). With replicas, the first of each.
   */
  addr: Record<"cache" | "precomputer" | "executor" | "predictor", string> &
    Partial<Record<"analyzer" | "handler", string>>;
  /** Every replica's address, by role, in index order (one each for `prescient up`). */
  addrs: Partial<Record<Role, string[]>>;
  processes: MeshProcess[];
  stop(): Promise<void>;
}

/** What a split mesh runs besides predictor, cache, executor and precomputer. */
export interface SplitOptions {
  /** An analyzer process, which the cache reports to and the precomputer asks for related entities. */
  analyzer?: boolean;
  /** `prescient serve task-handler`, the executor's PRESCIENT_HANDLER_ADDR: external task types complete. */
  handler?: boolean;
  /** Variables added to every process's environment (OTEL_*, say). */
  env?: NodeJS.ProcessEnv;
  /**
   * Processes per role, 1 by default (analyzers: 1 when `analyzer`, else 0).
   * Replica i of a role calls replica i mod n of each peer role, as a load
   * balancer spreading its callers over the replicas would.
   */
  replicas?: Partial<Record<ReplicatedRole, number>>;
  /** Variables of one process, over `env`: a replica's own name or log level. */
  envOf?: (p: { role: Role; index: number; addr: string }) => NodeJS.ProcessEnv;
  /** Roles whose stdout is kept (MeshProcess.output); the rest is discarded. */
  keepStdout?: readonly Role[];
}

/** What `prescient up` runs with besides its defaults. */
export interface UpOptions {
  /** `--redis`: Redis stores at this URL. Default: in-memory stores. */
  redisUrl?: string;
  /** Variables added to its environment (PRESCIENT_TIME_SCALE, say). */
  env?: NodeJS.ProcessEnv;
}

interface Started {
  child: ChildProcess;
  output(): string;
  exited(): string | undefined;
}

function start(args: string[], env: NodeJS.ProcessEnv, keepStdout = false): Started {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does)`);
  const child = spawn("node", [cli, ...args], {
    env,
    stdio: ["ignore", keepStdout ? "pipe" : "ignore", "inherit"],
  });
  const chunks: string[] = [];
  child.stdout?.setEncoding("utf8").on("data", (c: string) => chunks.push(c));
  let ended: string | undefined;
  child.once("exit", (code, signal) => {
    ended = signal !== null ? `signal ${signal}` : `code ${code}`;
  });
  return { child, output: () => chunks.join(""), exited: () => ended };
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve(undefined);
          c.once("exit", resolve);
          c.kill("SIGTERM");
        }),
    ),
  );
}

/** `prescient up`: the whole mesh in one process; in-memory stores unless given Redis. */
export async function startUp(options: UpOptions = {}): Promise<MeshProcesses> {
  const port = await freePort();
  const a = `127.0.0.1:${port}`;
  const redis = options.redisUrl !== undefined ? ["--redis", options.redisUrl] : [];
  const { child, output, exited } = start(["up", "--port", String(port), ...redis], {
    ...process.env,
    LOG_LEVEL: "warn",
    REDIS_URL: "",
    ...options.env,
  });
  try {
    await waitForServing(a, "", 60_000);
  } catch (e) {
    await stopAll([child]);
    throw e;
  }
  const roles = ["cache", "precomputer", "executor", "predictor"] as const;
  return {
    addr: { cache: a, precomputer: a, executor: a, predictor: a },
    addrs: Object.fromEntries(roles.map((r) => [r, [a]])),
    processes: [{ role: "cache", index: 0, addr: a, pid: child.pid, output, exited }],
    stop: () => stopAll([child]),
  };
}

/** The Kubernetes shape: one service per process (`prescient serve`), state in Redis. */
export async function startSplit(
  redisUrl: string,
  prefix: string,
  options: SplitOptions = {},
): Promise<MeshProcesses> {
  const count = (r: Role): number => {
    if (r === "predictor") return 1;
    if (r === "handler") return options.handler ? 1 : 0;
    if (r === "analyzer") return options.replicas?.analyzer ?? (options.analyzer ? 1 : 0);
    return options.replicas?.[r] ?? 1;
  };
  const roles = (["predictor", "cache", "executor", "precomputer", "analyzer", "handler"] as const).filter(
    (r) => count(r) > 0,
  );
  const addrs: Partial<Record<Role, string[]>> = {};
  const ports = await freePorts(roles.reduce((sum, r) => sum + count(r), 0));
  for (const r of roles) addrs[r] = ports.splice(0, count(r)).map((port) => `127.0.0.1:${port}`);
  /** Replica `i`'s peer of role `r`: replica i mod n, so callers spread over the replicas. */
  const peer = (r: Role, i: number): string | undefined => {
    const list = addrs[r];
    return list === undefined ? undefined : list[i % list.length];
  };
  const first = (r: Role): string => peer(r, 0) ?? "";
  const addr = {
    predictor: first("predictor"),
    cache: first("cache"),
    executor: first("executor"),
    precomputer: first("precomputer"),
    ...(addrs.analyzer !== undefined ? { analyzer: first("analyzer") } : {}),
    ...(addrs.handler !== undefined ? { handler: first("handler") } : {}),
  };
  // Each process reads only its own peers' variables, so all share one environment but their peers.
  const envOf = (role: Role, index: number, own: string): NodeJS.ProcessEnv => {
    const analyzer = peer("analyzer", index);
    const handler = peer("handler", index);
    return {
      ...process.env,
      LOG_LEVEL: "warn",
      REDIS_URL: redisUrl,
      PRESCIENT_CACHE_REDIS_PREFIX: `${prefix}:cache:`,
      PRESCIENT_PREDICTOR_ADDR: first("predictor"),
      PRESCIENT_CACHE_ADDR: peer("cache", index),
      PRESCIENT_EXECUTOR_ADDR: peer("executor", index),
      ...(analyzer !== undefined ? { PRESCIENT_ANALYZER_ADDR: analyzer } : {}),
      ...(handler !== undefined ? { PRESCIENT_HANDLER_ADDR: handler } : {}),
      // An analyzer replica names itself to the others, which forward it the tenants it owns.
      ...(role === "analyzer" ? { PRESCIENT_ANALYZER_ADVERTISE_ADDR: own } : {}),
      ...options.env,
      ...options.envOf?.({ role, index, addr: own }),
    };
  };
  const command = (r: Role) => (r === "handler" ? "task-handler" : r);
  const started: { role: Role; index: number; addr: string; process: Started }[] = [];
  const children: ChildProcess[] = [];
  // The services others call first, as a rollout gated on readiness does: a caller started with
  // them would fail its first calls, and grpc-js would then fail its calls fast through its
  // reconnect backoff, a while after the peer came up.
  const called: readonly Role[] = ["predictor", "analyzer", "handler"];
  for (const wave of [roles.filter((r) => called.includes(r)), roles.filter((r) => !called.includes(r))]) {
    const now = wave.flatMap((role) =>
      (addrs[role] ?? []).map((own, index) => ({
        role,
        index,
        addr: own,
        process: start(
          ["serve", command(role), "--addr", own],
          envOf(role, index, own),
          options.keepStdout?.includes(role) === true,
        ),
      })),
    );
    started.push(...now);
    children.push(...now.map((s) => s.process.child));
    try {
      await Promise.all(now.map((s) => waitForServing(s.addr, "", 60_000)));
    } catch (e) {
      await stopAll(children);
      throw e;
    }
  }
  return {
    addr,
    addrs,
    processes: started.map((s) => ({
      role: s.role,
      index: s.index,
      addr: s.addr,
      pid: s.process.child.pid,
      output: s.process.output,
      exited: s.process.exited,
    })),
    stop: () => stopAll(children),
  };
}

/** `prescient serve task-handler` alone: a handler both a one-process and a split mesh can name. */
export async function startTaskHandler(): Promise<{ addr: string; stop(): Promise<void> }> {
  const addr = `127.0.0.1:${await freePort()}`;
  const { child } = start(["serve", "task-handler", "--addr", addr], { ...process.env, LOG_LEVEL: "warn" });
  try {
    await waitForServing(addr, "", 60_000);
  } catch (e) {
    await stopAll([child]);
    throw e;
  }
  return { addr, stop: () => stopAll([child]) };
}
