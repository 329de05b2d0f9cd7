// Child process for preload.test.ts, run as `node --import @prescient/tracing/preload preload.fixture.mjs <mode>`.
// Plain JS because the child runs without vitest's TypeScript transform.
// mode "call": one unary call through a loopback grpc-js server whose handler makes a manual span.
// mode "natural": one manual span, then the process ends by running out of work (no explicit flush).
// mode "probe": reports what the preload started, making no call.
import { createRequire } from "node:module";
// Named imports on purpose: the instrumentation patches them through the ESM
// hook. The default export's `makeGenericClientConstructor` is a getter
// it cannot patch, so clients made that way go untraced (ts-proto's generated
// clients use named imports).
import { credentials, makeGenericClientConstructor, Server, ServerCredentials } from "@grpc/grpc-js";
import { currentTraceparent, shutdownTracing, tracingStarted, withSpan } from "@prescient/tracing";

const mode = process.argv[2];

if (mode === "probe") {
  // sdk-node is CommonJS, so loading it at all leaves it in the require cache.
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  const inside = await withSpan("probe", {}, (span) => ({
    recording: span.isRecording(),
    traceparent: currentTraceparent(),
  }));
  report({ started: tracingStarted(), sdkLoaded: loaded.some((f) => f.includes("/sdk-node/")), ...inside });
} else if (mode === "natural") {
  await withSpan("natural", {}, () => undefined);
  process.stdout.write(`${JSON.stringify({ started: tracingStarted() })}\n`);
} else if (mode === "call") {
  report(await tracedCall());
} else {
  throw new Error(`unknown mode ${mode}`);
}

async function tracedCall() {
  const same = (buffer) => buffer;
  const echo = {
    path: "/prescient.test.v1.EchoService/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: same,
    requestDeserialize: same,
    responseSerialize: same,
    responseDeserialize: same,
  };
  const server = new Server();
  server.addService(
    { echo },
    {
      echo: (call, callback) => {
        withSpan("echo.work", { "echo.bytes": call.request.length }, () =>
          Buffer.from(currentTraceparent()),
        ).then(
          (reply) => callback(null, reply),
          (err) => callback(err),
        );
      },
    },
  );
  const port = await new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const EchoClient = makeGenericClientConstructor({ echo }, "EchoService");
  const client = new EchoClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const reply = await new Promise((resolve, reject) =>
    client.echo(Buffer.from("hello"), (err, value) => (err ? reject(err) : resolve(value))),
  );
  client.close();
  server.forceShutdown();
  return { started: tracingStarted(), handlerTraceparent: reply.toString() };
}

// Flush the way a service host does (shutdownTracing, then exit), not by running out of work.
async function report(result) {
  await shutdownTracing();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
