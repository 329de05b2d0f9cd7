import { Server, ServerCredentials } from "@grpc/grpc-js";
import { executorV1 } from "@prescient/contracts";
import { referenceHandlerImplementation } from "@prescient/precomputer";

/**
 * The reference TaskHandlerService on loopback, for the external task types
 * triggers fan out to (scene_detection, thumbnails, ...). `prescient up`
 * embeds it, but a split executor only calls PRESCIENT_HANDLER_ADDR, so
 * without this every external task would die for want of a handler and the
 * soak would measure dead letters, not the mesh.
 */
export async function startHandlerServer(): Promise<{ addr: string; stop(): Promise<void> }> {
  const server = new Server();
  server.addService(executorV1.TaskHandlerServiceService, referenceHandlerImplementation());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return {
    addr: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
