import { existsSync, readFileSync } from "node:fs";
import { createFileRegistry, type DescMessage, fromBinary, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import {
  analyzerV1,
  cacheV1,
  commonV1,
  descriptorSetPath,
  executorV1,
  inference,
  precomputerV1,
  predictorV1,
} from "@prescient/contracts";
import type { TimeSlicer } from "@prescient/core";
import type { MessageCodec } from "./sliced-decode.js";
import { type EncodingCodec, SlicedEncoder } from "./sliced-encode.js";

/** Each proto package's generated module. Well-known types have none: they are left to their parents' codecs. */
const modules: Record<string, Record<string, unknown>> = {
  inference,
  "prescient.analyzer.v1": analyzerV1,
  "prescient.cache.v1": cacheV1,
  "prescient.common.v1": commonV1,
  "prescient.executor.v1": executorV1,
  "prescient.precomputer.v1": precomputerV1,
  "prescient.predictor.v1": predictorV1,
};

type Codec = MessageCodec & EncodingCodec;

function isCodec(value: unknown): value is Codec {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Codec).decode === "function" &&
    typeof (value as Codec).encode === "function"
  );
}

const parsed = new Map<string, ContractTypes | undefined>();

/**
 * The contracts' message types: their descriptors from the exact descriptor
 * set, and their generated (ts-proto) codecs by full name. ts-proto names a
 * nested message `Outer_Inner` in its package's module.
 */
export class ContractTypes {
  readonly registry: Registry;
  #encoder: SlicedEncoder | undefined;
  readonly #codecs = new Map<string, Codec | undefined>();

  constructor(descriptorSet: Uint8Array) {
    this.registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  }

  static fromFile(path: string = descriptorSetPath): ContractTypes {
    return new ContractTypes(readFileSync(path));
  }

  /** The types in a descriptor set, parsed once per process; undefined if there is no such file. */
  static at(path: string): ContractTypes | undefined {
    if (!parsed.has(path)) parsed.set(path, existsSync(path) ? ContractTypes.fromFile(path) : undefined);
    return parsed.get(path);
  }

  /** The contracts' types, from the descriptor set they ship with. */
  static shared(): ContractTypes {
    const types = ContractTypes.at(descriptorSetPath);
    if (types === undefined) throw new Error("the contracts' descriptor set is missing; run the build");
    return types;
  }

  /**
   * Encodes a message of the given type in slices when it holds long lists
   * (see SlicedEncoder), whole otherwise.
   */
  encodeInSlices(typeName: string, message: unknown, slicer?: TimeSlicer): Promise<Uint8Array> {
    const desc = this.registry.getMessage(typeName);
    if (desc === undefined) return Promise.reject(new Error(`no message type ${typeName}`));
    this.#encoder ??= new SlicedEncoder(this.codecOf);
    return this.#encoder.encode(desc, message, slicer);
  }

  /** The message's bytes now if it is small enough to need no slicing (see SlicedEncoder.encodeWhole), else undefined. */
  encodeWhole(typeName: string, message: unknown): Uint8Array | undefined {
    const desc = this.registry.getMessage(typeName);
    if (desc === undefined) throw new Error(`no message type ${typeName}`);
    this.#encoder ??= new SlicedEncoder(this.codecOf);
    return this.#encoder.encodeWhole(desc, message);
  }

  message(typeName: string): DescMessage | undefined {
    return this.registry.getMessage(typeName);
  }

  /** The request type of a gRPC method path, `/package.Service/Method`. */
  requestOf(path: string): DescMessage | undefined {
    const [, service, method] = path.split("/");
    return this.registry.getService(service ?? "")?.methods.find((m) => m.name === method)?.input;
  }

  /** Resolved once per type: the sliced encoder asks on every stored result. */
  codecOf = (typeName: string): Codec | undefined => {
    if (!this.#codecs.has(typeName)) this.#codecs.set(typeName, this.#resolveCodec(typeName));
    return this.#codecs.get(typeName);
  };

  #resolveCodec(typeName: string): Codec | undefined {
    const desc = this.registry.getMessage(typeName);
    if (desc === undefined) return undefined;
    const module = modules[desc.file.proto.package];
    if (module === undefined) return undefined;
    const local = typeName.slice(desc.file.proto.package.length + 1).replaceAll(".", "_");
    const codec = module[local];
    return isCodec(codec) ? codec : undefined;
  }
}
