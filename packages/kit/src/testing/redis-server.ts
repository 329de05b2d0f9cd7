import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A private, throwaway redis-server for tests and benchmarks. */
export interface RedisServerProcess {
  url: string;
  port: number;
  process: ChildProcess;
  /** Stops it with `signal` (SIGTERM flushes an AOF; SIGKILL does not) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `redis-server` on a free loopback port. By default persistence is
 * off and its directory is removed on stop; given `dir`, it keeps an AOF
 * there that survives a stop, so a restart on the same port and directory
 * finds its data again (the soak's Redis restart fault).
 */
export async function startRedisServer(
  options: { port?: number; binary?: string; dir?: string; args?: readonly string[] } = {},
): Promise<RedisServerProcess> {
  const port = options.port ?? (await freePort());
  const persistent = options.dir !== undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "prescient-redis-"));
  const child = spawn(
    options.binary ?? "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      persistent ? "yes" : "no",
      "--dir",
      dir,
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let output = "";
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) resolve();
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("error", (e) =>
        reject(new Error(`cannot start redis-server (apt-get install -y redis-server): ${e.message}`)),
      );
      child.once("exit", (code) =>
        reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)),
      );
    });
  } catch (e) {
    if (!persistent) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill(signal);
        await exited;
      }
      if (!persistent) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

/**
 * `count` distinct TCP ports that were free a moment ago on 127.0.0.1. All are
 * held open until the last is bound, because the kernel may hand a port that
 * was just released to the next bind: asked one by one, two could be the same.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === "object" && address ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
