import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePorts } from "./redis-server.js";

describe("freePorts", () => {
  it("answers distinct ports that can be bound at once", async () => {
    const ports = await freePorts(24);
    expect(new Set(ports).size).toBe(24);
    const servers = await Promise.all(
      ports.map(
        (port) =>
          new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
            const server = createServer();
            server.once("error", reject);
            server.listen(port, "127.0.0.1", () => resolve(server));
          }),
      ),
    );
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });
});
