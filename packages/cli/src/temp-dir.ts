import { rmSync } from "node:fs";
import type { ServiceHost } from "@prescient/kit";

/**
 * Removes a directory the process made for itself when the host shuts down
 * (SIGINT/SIGTERM drain, or `close()`), and at the latest when the process
 * exits, which covers `process.exit()` after a failed start. Synchronous,
 * because an `exit` listener cannot wait. A process killed outright (SIGKILL)
 * leaves it, as any process would.
 */
export function removeWhenDone(host: ServiceHost, dir: string): void {
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  process.once("exit", remove);
  host.onShutdown(() => {
    // Dropped so that meshes started and closed in one process (tests) do not pile up listeners.
    process.off("exit", remove);
    remove();
  });
}
