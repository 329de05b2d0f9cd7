import { pathToFileURL } from "node:url";

/**
 * A child process of `bench analyzer-vs-commit`: one analyzer of the checkout
 * named on the command line (its built dist/), on the Redis given, under the
 * key prefix given. It imports nothing of this checkout, so a checkout of
 * any commit with the same startAnalyzer shape runs here as it ran then.
 *
 * argv: checkout, redis URL, key prefix. It sends `{ address }` once
 * serving, answers "flush" with "flushed" once its store holds every event
 * it acknowledged (a read flushes any pre-aggregation), and exits on "stop".
 */
interface Runtime {
  ready: Promise<void>;
  analyzer: { topMembers(family: string, limit: number): Promise<unknown> };
}
interface Host {
  address: string;
  start(): Promise<void>;
  shutdown(): Promise<void>;
}

const [checkout, redisUrl, keyPrefix] = process.argv.slice(2);
if (checkout === undefined || redisUrl === undefined || keyPrefix === undefined || process.send === undefined)
  throw new Error("usage: fork analyzer-process.js <checkout> <redis url> <key prefix>");
const send = process.send.bind(process);
const kit = (await import(pathToFileURL(`${checkout}/packages/kit/dist/index.js`).href)) as {
  ServiceHost: new (options: { address: string }) => Host;
};
const { startAnalyzer } = (await import(
  pathToFileURL(`${checkout}/services/analyzer/dist/index.js`).href
)) as {
  startAnalyzer(host: Host, options: object): Promise<Runtime>;
};
const host = new kit.ServiceHost({ address: "127.0.0.1:0" });
const runtime = await startAnalyzer(host, {
  store: { redisUrl, keyPrefix },
  // No retraining or cleanup mid-run: ingest alone is measured, as in bench analyzer.
  retrainIntervalMs: 0,
  cleanupIntervalMs: 0,
  modelRepositoryPath: `${process.env.TMPDIR ?? "/tmp"}/bench-analyzer-models-${process.pid}`,
});
await host.start();
await runtime.ready;
process.on("message", (message) => {
  if (message === "flush") void runtime.analyzer.topMembers("tenants", 1).then(() => send("flushed"));
  else if (message === "stop") void host.shutdown().then(() => process.exit(0));
});
send({ address: host.address });
