import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitForServing } from "@prescient/kit";
import { freePort } from "@prescient/kit/testing";

/** The built CLI, as `npm start` runs it. */
export const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));

export interface MeshProcesses {
  /**
   * Address of each service; all the same for `prescient up`. The analyzer and
   * the task handler are set only where the split was asked for them (SplitOptions).
   */
  addr: Record<"cache" | "precomputer" | "executor" | "predictor", string> &
    Partial<Record<"analyzer" | "handler", string>>;
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
}

function start(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm test does)`);
  return spawn("node", [cli, ...args], { env, stdio: ["ignore", "ignore", "inherit"] });
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

/** `prescient up`: the whole mesh in one process, in-memory stores. */
export async function startUp(): Promise<MeshProcesses> {
  const port = await freePort();
  const a = `127.0.0.1:${port}`;
  const child = start(["up", "--port", String(port)], { ...process.env, LOG_LEVEL: "warn", REDIS_URL: "" });
  await waitForServing(a, "", 60_000);
  return { addr: { cache: a, precomputer: a, executor: a, predictor: a }, stop: () => stopAll([child]) };
}

/** The Kubernetes shape: one service per process (`prescient serve`), state in Redis. */
export async function startSplit(
  redisUrl: string,
  prefix: string,
  options: SplitOptions = {},
): Promise<MeshProcesses> {
  const roles: (keyof MeshProcesses["addr"])[] = [
    "predictor",
    "cache",
    "executor",
    "precomputer",
    ...(options.analyzer ? (["analyzer"] as const) : []),
    ...(options.handler ? (["handler"] as const) : []),
  ];
  const bound = new Map<keyof MeshProcesses["addr"], string>();
  for (const r of roles) bound.set(r, `127.0.0.1:${await freePort()}`);
  const addr = Object.fromEntries(bound) as MeshProcesses["addr"];
  // Each process reads only its own peers' variables, so one environment serves them all.
  const env = {
    ...process.env,
    LOG_LEVEL: "warn",
    REDIS_URL: redisUrl,
    PRESCIENT_CACHE_REDIS_PREFIX: `${prefix}:cache:`,
    PRESCIENT_PREDICTOR_ADDR: addr.predictor,
    PRESCIENT_CACHE_ADDR: addr.cache,
    PRESCIENT_EXECUTOR_ADDR: addr.executor,
    ...(addr.analyzer !== undefined ? { PRESCIENT_ANALYZER_ADDR: addr.analyzer } : {}),
    ...(addr.handler !== undefined ? { PRESCIENT_HANDLER_ADDR: addr.handler } : {}),
    ...options.env,
  };
  const at = (r: keyof MeshProcesses["addr"]): string => bound.get(r) ?? "";
  const command = (r: keyof MeshProcesses["addr"]) => (r === "handler" ? "task-handler" : r);
  const children = roles.map((r) => start(["serve", command(r), "--addr", at(r)], env));
  try {
    await Promise.all(roles.map((r) => waitForServing(at(r), "", 60_000)));
  } catch (e) {
    await stopAll(children);
    throw e;
  }
  return { addr, stop: () => stopAll(children) };
}
