export { grpcError } from "@prescient/kit/testing";

import { credentials } from "@grpc/grpc-js";
import { precomputerV1 } from "@prescient/contracts";
import { callUnary, clientChannelOptions, ServiceHost } from "@prescient/kit";
import type { PrecomputerOptions } from "../options.js";
import { type PrecomputerRuntime, startPrecomputer } from "../start-precomputer.js";

/** A precomputer on a loopback ServiceHost (schedules off unless asked) with a promise-returning call per RPC. */
export async function startTestPrecomputer(options: Partial<PrecomputerOptions>) {
  const host = new ServiceHost({ address: "127.0.0.1:0", drainTimeoutMs: 2000 });
  const runtime: PrecomputerRuntime = startPrecomputer(host, {
    runSchedules: false,
    alertIntervalMs: 0,
    ...options,
  });
  await host.start();
  await runtime.ready;
  const client = new precomputerV1.PrecomputerServiceClient(
    host.address,
    credentials.createInsecure(),
    clientChannelOptions(),
  );
  const t = { timeoutMs: 10_000 };
  const rpc = {
    trigger: (r: precomputerV1.TriggerRequest) => callUnary(client.trigger.bind(client), r, t),
    triggerMany: (r: precomputerV1.TriggerManyRequest) => callUnary(client.triggerMany.bind(client), r, t),
    warm: (r: precomputerV1.WarmRequest) => callUnary(client.warm.bind(client), r, t),
    refresh: (r: precomputerV1.RefreshRequest) => callUnary(client.refresh.bind(client), r, t),
    listRuns: (r: precomputerV1.ListRunsRequest) => callUnary(client.listRuns.bind(client), r, t),
    runScheduleNow: (r: precomputerV1.RunScheduleNowRequest) =>
      callUnary(client.runScheduleNow.bind(client), r, t),
    stats: () => callUnary(client.stats.bind(client), {}, t),
  };
  const stop = async (): Promise<void> => {
    client.close();
    await host.shutdown();
  };
  return { host, runtime, client, rpc, stop };
}

export const event = (over: Partial<precomputerV1.Event> = {}): precomputerV1.Event => ({
  type: "video_uploaded",
  tenant: "acme",
  entityId: "v1",
  userId: "u1",
  features: { duration_s: { number: 30 } },
  attributes: {},
  relatedEntityIds: [],
  ...over,
});
