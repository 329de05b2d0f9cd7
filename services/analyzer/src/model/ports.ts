/**
 * The ports through which the analyzer core publishes and serves its
 * next-action model, so that the core needs neither a file system layout nor
 * gRPC: a publisher writes versions into the predictor's repository, and a
 * scorer runs a version on feature rows (in process, or over OIP).
 */
export interface PublishedModel {
  version: number;
  bytes: Uint8Array;
}

export interface ModelPublisher {
  /** Writes a new version (atomically) and returns its number. */
  publish(bytes: Uint8Array): Promise<number>;
  /** The newest version present, if any. */
  latest(): Promise<PublishedModel | undefined>;
}

export interface ScoreRequest {
  version: number;
  /** Row-major FP32 [rows, width]. */
  features: Float32Array;
  rows: number;
  width: number;
  /** Classes per output row. */
  classes: number;
}

export interface NextActionScorer {
  /** Where scores come from, for logs: "in-process" or "predictor host:port". */
  readonly description: string;
  /** Row-major probabilities [rows, classes]. Throws UnavailableError or NotFoundError when it cannot answer. */
  score(request: ScoreRequest): Promise<Float32Array>;
  /** A version was published or found at start: make it servable (load a session, or ask the predictor to load). */
  modelPublished(model: PublishedModel): Promise<void>;
  close(): Promise<void>;
}
