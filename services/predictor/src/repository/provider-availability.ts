import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import type { ExecutionProviderName } from "./model-config.js";

/**
 * Why an execution provider cannot start on this machine, when that can be
 * told without asking onnxruntime; undefined when it may start (or cannot be
 * told: then onnxruntime is asked, and its own error is the answer).
 *
 * Asking onnxruntime for a provider whose libraries are absent does fail
 * cleanly, but native code prints to stderr first, past any logger: ORT logs
 * an [E:onnxruntime] line for a missing CUDA provider library, and Dawn (the
 * webgpu provider) a Vulkan warning with a C++ frame. Both are expected on a
 * machine without a GPU runtime and say nothing the fallback warning does not,
 * so they are not requested there. ORT's log level is left alone, so its
 * real errors still show.
 */
export function providerUnavailable(provider: ExecutionProviderName): string | undefined {
  if (provider === "cuda") return cudaUnavailable();
  if (provider === "webgpu") return webgpuUnavailable();
  return undefined;
}

/** onnxruntime-node's native folder, where a CUDA install puts its provider libraries. */
function nativeFolder(): string {
  const main = createRequire(import.meta.url).resolve("onnxruntime-node");
  return join(dirname(main), "..", "bin", "napi-v6", process.platform, process.arch);
}

function cudaUnavailable(): string | undefined {
  const library =
    process.platform === "linux"
      ? "libonnxruntime_providers_cuda.so"
      : process.platform === "win32"
        ? "onnxruntime_providers_cuda.dll"
        : undefined;
  if (library === undefined) return `onnxruntime-node has no CUDA provider on ${process.platform}`;
  if (existsSync(join(nativeFolder(), library))) return undefined;
  return "the CUDA provider is not installed (install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12)";
}

/** On Linux webgpu runs on Vulkan: without the Vulkan loader it cannot start. */
function webgpuUnavailable(): string | undefined {
  if (process.platform !== "linux") return undefined;
  const loader = "libvulkan.so.1";
  const dirs = (process.env.LD_LIBRARY_PATH ?? "").split(delimiter).filter(Boolean);
  if (dirs.some((d) => existsSync(join(d, loader)))) return undefined;
  let cache: Buffer;
  try {
    // The dynamic linker's index of installed libraries; names appear in it as plain strings.
    cache = readFileSync("/etc/ld.so.cache");
  } catch {
    return undefined;
  }
  return cache.includes(loader) ? undefined : `no Vulkan loader (${loader}) on this machine`;
}
