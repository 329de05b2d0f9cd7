import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitForServing } from "@prescient/kit";
import { freePort } from "@prescient/kit/testing";

export const roles = ["predictor", "cache", "executor", "precomputer", "analyzer"] as const;
export type Role = (typeof roles)[number];

/** The built CLI, as `npm start` runs it. */
const cli = fileURLToPath(new URL("../../../packages/cli/dist/main.js", import.meta.url));

/**
 * The split, Kubernetes shape: one `prescient serve <service>` process per
 * service on loopback, peers named by PRESCIENT_*_ADDR, state in Redis. Each
 * role keeps its address across restarts, as a Kubernetes Service would, so
 * peers and the load's client reconnect to the new process.
 */
export class MeshProcesses {
  readonly addr = {} as Record<Role, string>;
  readonly #children = new Map<Role, ChildProcess>();
  readonly #env: NodeJS.ProcessEnv;
  readonly #logDir: string;

  private constructor(env: NodeJS.ProcessEnv, logDir: string) {
    this.#env = env;
    this.#logDir = logDir;
  }

  static async start(options: {
    redisUrl: string;
    prefix: string;
    handlerAddr: string;
    logDir: string;
    extraEnv?: NodeJS.ProcessEnv;
  }): Promise<MeshProcesses> {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build (npm run soak does)`);
    const addr = {} as Record<Role, string>;
    for (const r of roles) addr[r] = `127.0.0.1:${await freePort()}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LOG_LEVEL: "warn",
      REDIS_URL: options.redisUrl,
      PRESCIENT_CACHE_REDIS_PREFIX: `${options.prefix}:cache:`,
      PRESCIENT_PREDICTOR_ADDR: addr.predictor,
      PRESCIENT_CACHE_ADDR: addr.cache,
      PRESCIENT_EXECUTOR_ADDR: addr.executor,
      PRESCIENT_ANALYZER_ADDR: addr.analyzer,
      PRESCIENT_HANDLER_ADDR: options.handlerAddr,
      ...options.extraEnv,
    };
    const mesh = new MeshProcesses(env, options.logDir);
    Object.assign(mesh.addr, addr);
    try {
      await Promise.all(roles.map((r) => mesh.#spawn(r)));
    } catch (e) {
      await mesh.stop();
      throw e;
    }
    return mesh;
  }

  pid(role: Role): number | undefined {
    const c = this.#children.get(role);
    return c !== undefined && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  /** SIGKILLs a role's process, waits for its exit, and starts it again; answers ms until SERVING. */
  async killAndRestart(role: Role): Promise<number> {
    await this.#kill(role, "SIGKILL");
    const t0 = Date.now();
    await this.#spawn(role);
    return Date.now() - t0;
  }

  async stop(): Promise<void> {
    await Promise.all(roles.map((r) => this.#kill(r, "SIGTERM")));
  }

  async #spawn(role: Role): Promise<void> {
    // Their stderr (warnings and errors at LOG_LEVEL=warn) goes to a file per role, appended across restarts.
    const fd = openSync(join(this.#logDir, `${role}.log`), "a");
    const child = spawn("node", [cli, "serve", role, "--addr", this.addr[role]], {
      env: this.#env,
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    this.#children.set(role, child);
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code, signal) =>
        reject(
          new Error(`${role} exited (${code ?? signal}) before SERVING; see ${this.#logDir}/${role}.log`),
        ),
      ),
    );
    exited.catch(() => {});
    await Promise.race([waitForServing(this.addr[role], "", 60_000), exited]);
  }

  async #kill(role: Role, signal: NodeJS.Signals): Promise<void> {
    const c = this.#children.get(role);
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once("exit", resolve));
    c.kill(signal);
    await exited;
  }
}
