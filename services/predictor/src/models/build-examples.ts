import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { auc, r2, rmse } from "./evaluation.js";
import { type ExampleSpec, exampleSpecs, sampleDataset } from "./example-specs.js";
import { predict, trainMlp } from "./mlp.js";
import { buildMlpModel } from "./onnx-graph.js";
import { Rng } from "./rng.js";

/**
 * `npm run models`: trains the example models on their synthetic worlds and
 * writes them into the shipped model repository as version 1. Deterministic:
 * one fixed seed per model, so a rebuild yields the same bytes.
 */
export const shippedRepositoryPath: string = fileURLToPath(new URL("../../models/", import.meta.url));

const SEED = 20_240_601;

function configYaml(spec: ExampleSpec): string {
  return `# ${spec.model}: ${spec.description}
# Built by \`npm run models\` (services/predictor/src/models/build-examples.ts); config is hand-tunable.
# Input: features FP32 [-1, ${spec.features.length}] = ${spec.features.join(", ")}
# Output: ${spec.output} FP32 [-1, 1]
max_batch_size: 256
dynamic_batching: true
# 0: batches form while the instance is busy, so a lone request never waits.
max_queue_delay_ms: 0
preferred_batch_sizes: []
priority_levels: 3
default_priority_level: 2
max_queue_size: 8192
default_queue_timeout_ms: 0
instance_count: 1
execution_providers: [cpu]
provider_fallback: true
intra_op_threads: 1
version_policy:
  latest: 1
`;
}

export function buildExample(spec: ExampleSpec, seed: number, log: (line: string) => void): Uint8Array {
  const rng = new Rng(seed);
  const train = sampleDataset(spec, spec.train.rows, rng);
  const weights = trainMlp(train.x, train.label, rng, {
    ...spec.train,
    onEpoch: (epoch, loss) => {
      if (epoch % 5 === 0 || epoch === spec.train.epochs)
        log(`  ${spec.model}: epoch ${epoch}/${spec.train.epochs} loss ${loss.toFixed(4)}`);
    },
  });
  const holdout = sampleDataset(spec, 5000, new Rng(seed + 1));
  const d = spec.features.length;
  const predicted = Array.from(holdout.truth, (_, r) =>
    predict(weights, holdout.x.subarray(r * d, (r + 1) * d)),
  );
  const quality =
    spec.kind === "probability"
      ? `AUC ${auc(predicted, holdout.label).toFixed(3)} (truth ${auc(holdout.truth, holdout.label).toFixed(3)}), RMSE vs truth ${rmse(predicted, holdout.truth).toFixed(4)}`
      : `R² vs truth ${r2(predicted, holdout.truth).toFixed(3)}, RMSE vs truth ${rmse(predicted, holdout.truth).toFixed(4)}`;
  log(`  ${spec.model}: holdout ${quality}`);
  return buildMlpModel(weights, {
    model: spec.model,
    input: "features",
    output: spec.output,
    docString: `${spec.description} Features: ${spec.features.join(", ")}.`,
  });
}

export function buildExamples(root: string, log: (line: string) => void = console.log): void {
  exampleSpecs.forEach((spec, i) => {
    log(`[${i + 1}/${exampleSpecs.length}] training ${spec.model}`);
    const bytes = buildExample(spec, SEED + i * 1000, log);
    const dir = join(root, spec.model);
    mkdirSync(join(dir, "1"), { recursive: true });
    writeFileSync(join(dir, "1", "model.onnx"), bytes);
    writeFileSync(join(dir, "config.yaml"), configYaml(spec));
    log(`  wrote ${join(dir, "1", "model.onnx")} (${bytes.length} bytes)`);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildExamples(shippedRepositoryPath);
