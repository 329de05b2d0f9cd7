import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { pipeline } from "node:stream";
import * as zlib from "node:zlib";

/**
 * A trace file's bytes, decompressed as its name says: public traces ship
 * gzip (`.gz`) and zstd (`.zst`, as Twitter's and libCacheSim's do)
 * compressed. Zstd goes through Node's zlib where it has it (Node 22.15
 * and later) and the `zstd` command otherwise. Stopping early (a reader
 * that found the first line) closes the file and ends any decompressor.
 */
export async function* traceBytes(path: string): AsyncGenerator<Buffer> {
  const lower = path.toLowerCase();
  if (lower.endsWith(".gz")) yield* decompressed(path, zlib.createGunzip());
  else if (!lower.endsWith(".zst"))
    yield* createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
  else {
    const createZstd = (zlib as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;
    if (createZstd !== undefined) yield* decompressed(path, createZstd());
    else yield* zstdCommand(path);
  }
}

async function* decompressed(path: string, decompressor: NodeJS.ReadWriteStream): AsyncGenerator<Buffer> {
  const input = createReadStream(path);
  // pipeline carries an error of either stream to the other, which the loop below then throws.
  pipeline(input, decompressor, () => undefined);
  try {
    yield* decompressor as AsyncIterable<Buffer>;
  } finally {
    input.destroy();
  }
}

/** Zstd through the `zstd` command (Node 20 has no zstd of its own). */
export async function* zstdCommand(path: string): AsyncGenerator<Buffer> {
  const child = spawn("zstd", ["-dcq", "--", path], { stdio: ["ignore", "pipe", "pipe"] });
  let spawnError: Error | undefined;
  // A child that fails to start emits "error", then "close".
  child.once("error", (e) => {
    spawnError = e;
  });
  const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 500) stderr += d.toString();
  });
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) yield chunk;
    const code = await closed;
    if (spawnError !== undefined)
      throw new Error(
        `cannot decompress ${basename(path)}: this Node has no zstd and the zstd command did not run (${spawnError.message}); decompress it with zstd -d first`,
      );
    if (code !== 0)
      throw new Error(`zstd could not decompress ${basename(path)}: ${stderr.trim().slice(0, 200)}`);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}
