import { errorMessage } from "@prescient/core";
import type { Command } from "commander";
import { parsePositiveInt, parsePositiveNumber } from "../client-command.js";
import { startMesh } from "../mesh.js";
import { isServable, type Servable, servableNames, serviceNames, taskHandlerName } from "../services.js";

async function run(
  services: readonly Servable[],
  address: string | undefined,
  redisUrl: string | undefined,
  timeScale?: number,
) {
  try {
    const mesh = await startMesh({
      services,
      ...(address !== undefined ? { address } : {}),
      ...(redisUrl !== undefined ? { redisUrl } : {}),
      ...(timeScale !== undefined ? { timeScale } : {}),
    });
    mesh.host.installSignalHandlers();
    await mesh.ready;
  } catch (e) {
    process.stderr.write(`prescient: cannot start: ${errorMessage(e)}\n`);
    process.exit(1);
  }
}

export function registerUp(program: Command): void {
  program
    .command("up")
    .description("start all five services in one process on one port, with in-memory stores (or Redis)")
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--port <port>", "port to bind (default: PRESCIENT_ADDR's, 50051)", parsePositiveInt)
    .option("--redis <url>", "use Redis stores at this URL (default: REDIS_URL, else memory)")
    .option(
      "--time-scale <factor>",
      "live this many times faster: TTLs, schedule periods, the analyzer's half-lives and the query log's flush " +
        "divided by it, rates multiplied (default: PRESCIENT_TIME_SCALE, else 1); for `prescient replay --live --speed <factor>`",
      parsePositiveNumber,
    )
    .action(async (opts: { host: string; port?: number; redis?: string; timeScale?: number }) => {
      const address = opts.port !== undefined ? `${opts.host}:${opts.port}` : undefined;
      await run(serviceNames, address, opts.redis, opts.timeScale);
    });

  program
    .command("serve")
    .description(
      "run one service in its own process, as Kubernetes does " +
        `(${taskHandlerName}: the example external task types' reference handler, for PRESCIENT_HANDLER_ADDR)`,
    )
    .argument("<service>", `one of ${servableNames.join(", ")}`)
    .option("--addr <host:port>", "address to bind (default: PRESCIENT_ADDR)")
    .option("--redis <url>", "use Redis stores at this URL (default: REDIS_URL)")
    .action(async (service: string, opts: { addr?: string; redis?: string }) => {
      if (!isServable(service)) {
        process.stderr.write(
          `prescient: unknown service ${JSON.stringify(service)}; one of ${servableNames.join(", ")}\n`,
        );
        process.exit(2);
      }
      await run([service], opts.addr, opts.redis);
    });
}
