import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type RedisServerProcess, startRedisServer } from "@prescient/kit/testing";

/**
 * A private redis-server whose data survives a restart: the test helper's
 * server with an AOF in a directory of its own, on a port that stays the same
 * across restarts so the services' clients reconnect to it.
 */
export class RedisProcess {
  readonly dir = mkdtempSync(join(tmpdir(), "prescient-soak-redis-"));
  port = 0;
  #server: RedisServerProcess | undefined;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    const c = this.#server?.process;
    return c !== undefined && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    this.#server = await startRedisServer({ port: this.port, dir: this.dir });
  }

  /** Stops it with `signal` and waits for the exit (SIGTERM flushes the AOF; SIGKILL does not). */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await this.#server?.stop(signal);
  }

  async dispose(): Promise<void> {
    await this.stop("SIGTERM");
    rmSync(this.dir, { recursive: true, force: true });
  }
}
