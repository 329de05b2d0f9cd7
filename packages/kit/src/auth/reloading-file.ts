import { readFileSync, statSync } from "node:fs";
import { errorMessage } from "@prescient/core";
import type { Logger } from "../logger.js";

/**
 * A file parsed once, then again whenever its mtime changes, looked at no
 * more often than every `checkIntervalMs`: a rotated Kubernetes Secret takes
 * effect within about a minute without a restart, and the hot path pays one
 * clock read per call. A file that breaks on reload keeps the last good
 * content (and logs why), so a half-written edit cannot lock everyone out.
 */
export class ReloadingFile<T> {
  readonly path: string;
  readonly #parse: (text: string) => T;
  readonly #checkIntervalMs: number;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  #value: T;
  #mtimeMs: number;
  #checkedAt: number;

  /** Reads and parses the file now; throws (naming the file) when it cannot. */
  constructor(
    path: string,
    parse: (text: string) => T,
    options: { checkIntervalMs?: number; logger?: Logger | undefined; now?: () => number } = {},
  ) {
    this.path = path;
    this.#parse = parse;
    this.#checkIntervalMs = options.checkIntervalMs ?? 5_000;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#mtimeMs = statSync(path).mtimeMs;
    this.#value = parse(readFileSync(path, "utf8"));
    this.#checkedAt = this.#now();
  }

  get value(): T {
    const now = this.#now();
    if (now - this.#checkedAt >= this.#checkIntervalMs) {
      this.#checkedAt = now;
      this.#reloadIfChanged();
    }
    return this.#value;
  }

  #reloadIfChanged(): void {
    try {
      const mtimeMs = statSync(this.path).mtimeMs;
      if (mtimeMs === this.#mtimeMs) return;
      this.#value = this.#parse(readFileSync(this.path, "utf8"));
      this.#mtimeMs = mtimeMs;
      this.#logger?.info({ path: this.path }, "auth file reloaded");
    } catch (e) {
      this.#logger?.error(
        { path: this.path, err: errorMessage(e) },
        "auth file reload failed: keeping the last good one",
      );
    }
  }
}
