import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitForServing } from "@prescient/kit";
import { freePort } from "@prescient/kit/testing";

/** The built CLI, as `npm start` runs it. */
export const cli = fileURLToPath(new URL("../../packages/cli/dist/main.js", import.meta.url));

export interface MeshProcesses {
  /** Address of each service; all the same for `prescient up`. */
  addr: Record<"cache" | "precomputer" | "executor" | "predictor", string>;
  stop(): Promise<void>;
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
export async function startSplit(redisUrl: string, prefix: string): Promise<MeshProcesses> {
  const roles = ["predictor", "cache", "executor", "precomputer"] as const;
  const addr = {} as MeshProcesses["addr"];
  for (const r of roles) addr[r] = `127.0.0.1:${await freePort()}`;
  const env = {
    ...process.env,
    LOG_LEVEL: "warn",
    REDIS_URL: redisUrl,
    PRESCIENT_CACHE_REDIS_PREFIX: `${prefix}:cache:`,
    PRESCIENT_PREDICTOR_ADDR: addr.predictor,
    PRESCIENT_CACHE_ADDR: addr.cache,
    PRESCIENT_EXECUTOR_ADDR: addr.executor,
  };
  const children = roles.map((r) => start(["serve", r, "--addr", addr[r]], env));
  try {
    await Promise.all(roles.map((r) => waitForServing(addr[r], "", 60_000)));
  } catch (e) {
    await stopAll(children);
    throw e;
  }
  return { addr, stop: () => stopAll(children) };
}
