import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@prescient/source"] },
  ssr: { resolve: { conditions: ["@prescient/source"] } },
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "services/*/src/**/*.test.ts",
      "examples/src/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    globalSetup: ["test/setup/redis-server.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // ORT_DISABLE_TELEMETRY: tests that make onnxruntime sessions directly would leave its files in the temp folder (kit's onnx-runtime.ts).
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "fatal", ORT_DISABLE_TELEMETRY: "1" },
    reporters: ["default", "./test/setup/summary-reporter.ts"],
  },
});
