import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelPublisher, PublishedModel } from "./ports.js";

/**
 * Publishes next-action versions into a Triton-style model repository,
 * `<root>/<model>/<version>/model.onnx` plus `<root>/<model>/config.yaml`,
 * which is what the predictor polls. A version is written into a hidden
 * temporary directory and renamed into place, so that the predictor never
 * sees half a file; the config is written the same way, once.
 */
const config = `# next_action: written by the analyzer (services/analyzer).
# Input: features FP32 [-1, width]; output: probabilities FP32 [-1, actions]. The feature spec is in the model's metadata.
max_batch_size: 256
dynamic_batching: true
max_queue_delay_ms: 1
execution_providers: [cpu]
intra_op_threads: 1
version_policy:
  latest: 1
`;

export class FileModelPublisher implements ModelPublisher {
  readonly #dir: string;

  constructor(root: string, model: string) {
    this.#dir = join(root, model);
  }

  async publish(bytes: Uint8Array): Promise<number> {
    await mkdir(this.#dir, { recursive: true });
    await this.#ensureConfig();
    // A rename onto an existing version fails, so two publishers racing for one number cannot both win.
    for (let attempt = 0; attempt < 5; attempt++) {
      const version = ((await this.#versions()).at(-1) ?? 0) + 1;
      const tmp = join(this.#dir, `.tmp-${version}-${randomBytes(6).toString("hex")}`);
      await mkdir(tmp);
      await writeFile(join(tmp, "model.onnx"), bytes);
      try {
        await rename(tmp, join(this.#dir, String(version)));
        return version;
      } catch {
        await rm(tmp, { recursive: true, force: true });
      }
    }
    throw new Error(`could not publish a new version into ${this.#dir}`);
  }

  async latest(): Promise<PublishedModel | undefined> {
    for (const version of (await this.#versions()).reverse()) {
      try {
        return { version, bytes: await readFile(join(this.#dir, String(version), "model.onnx")) };
      } catch {
        // A version directory without its file: skip to the one before.
      }
    }
    return undefined;
  }

  async #versions(): Promise<number[]> {
    try {
      return (await readdir(this.#dir))
        .filter((n) => /^[0-9]{1,9}$/.test(n))
        .map(Number)
        .sort((a, b) => a - b);
    } catch {
      return [];
    }
  }

  async #ensureConfig(): Promise<void> {
    const names = await readdir(this.#dir);
    if (names.some((n) => /^config\.(yaml|yml|json)$/.test(n))) return;
    const tmp = join(this.#dir, `.config-${randomBytes(6).toString("hex")}`);
    await writeFile(tmp, config);
    await rename(tmp, join(this.#dir, "config.yaml"));
  }
}
