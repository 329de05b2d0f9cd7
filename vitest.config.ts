import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@prescient/source"] },
  ssr: { resolve: { conditions: ["@prescient/source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/setup/redis-server.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "fatal" },
    reporters: ["default", "./test/setup/summary-reporter.ts"],
  },
});
