import { InvalidArgumentError } from "@prescient/core";
import {
  formatCheck,
  generate,
  validateWorkload,
  type WorkloadKind,
  workloadKinds,
  writeCsv,
} from "@prescient/evaluator";
import type { Command } from "commander";
import { parsePositiveInt, parsePositiveNumber, runClient } from "../client-command.js";

interface GenerateFlags {
  seed: number;
  out: string;
  days?: number;
  json: boolean;
}

export function registerWorkload(program: Command): void {
  const workload = program.command("workload").description("synthetic workloads for prescient replay");
  workload
    .command("generate")
    .description(
      `generate a workload as the generic CSV (${workloadKinds.join(", ")}) and validate its statistics`,
    )
    .argument("<kind>", "workload kind")
    .option("--seed <n>", "random seed (same seed, same file)", parsePositiveInt, 1)
    .requiredOption("--out <file>", "CSV file to write")
    .option("--days <n>", "length in days (default per kind)", parsePositiveNumber)
    .option("--json", "print the validation as JSON", false)
    .action(async (kind: string, flags: GenerateFlags) =>
      runClient(async () => {
        if (!(workloadKinds as readonly string[]).includes(kind))
          throw new InvalidArgumentError(
            `unknown workload ${JSON.stringify(kind)}; known: ${workloadKinds.join(", ")}`,
          );
        const w = generate(kind as WorkloadKind, flags.seed, flags.days);
        await writeCsv(flags.out, w.rows);
        const checks = validateWorkload(w);
        const reads = w.rows.filter((r) => r.event === "").length;
        if (flags.json)
          process.stdout.write(
            `${JSON.stringify({ kind, seed: flags.seed, out: flags.out, rows: w.rows.length, reads, checks }, null, 2)}\n`,
          );
        else {
          process.stdout.write(
            `wrote ${flags.out}: ${w.rows.length} rows (${reads} reads, ${w.rows.length - reads} events)\n`,
          );
          for (const c of checks) process.stdout.write(`${formatCheck(c)}\n`);
        }
        if (checks.some((c) => !c.ok)) process.exitCode = 1;
      }),
    );
}
