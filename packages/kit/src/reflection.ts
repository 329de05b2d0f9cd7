import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from "@bufbuild/protobuf/wkt";
import {
  loadPackageDefinition,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

/**
 * gRPC server reflection (v1 and v1alpha) answered from the exact descriptor
 * set that `buf build` wrote, file for file, so strict clients (grpcurl,
 * Postman, buf curl) see the real .proto files and their real imports.
 */
export class DescriptorReflection {
  readonly #files = new Map<string, Buffer>();
  readonly #deps = new Map<string, string[]>();
  readonly #symbols = new Map<string, string>();
  readonly #services = new Set<string>();

  constructor(descriptorSet: Uint8Array) {
    const set = fromBinary(FileDescriptorSetSchema, descriptorSet);
    for (const file of set.file) {
      this.#files.set(file.name, Buffer.from(toBinary(FileDescriptorProtoSchema, file)));
      this.#deps.set(file.name, file.dependency);
      this.#index(file);
    }
  }

  static fromFile(path: string): DescriptorReflection {
    return new DescriptorReflection(readFileSync(path));
  }

  hasService(name: string): boolean {
    return this.#services.has(name);
  }

  /** Registers both reflection versions, listing only `servedServices`. */
  addToServer(server: Server, servedServices: () => string[]): void {
    for (const version of ["v1", "v1alpha"] as const) {
      server.addService(reflectionDefinition(version), {
        ServerReflectionInfo: (stream: ServerDuplexStream<ReflectionRequest, ReflectionResponse>) => {
          stream.on("data", (request: ReflectionRequest) =>
            stream.write(this.answer(request, servedServices)),
          );
          stream.on("end", () => stream.end());
          stream.on("error", () => stream.end());
        },
      });
    }
  }

  answer(request: ReflectionRequest, servedServices: () => string[]): ReflectionResponse {
    const base = { validHost: request.host ?? "", originalRequest: request };
    const notFound = (what: string): ReflectionResponse => ({
      ...base,
      errorResponse: { errorCode: 5, errorMessage: `${what} not found` },
    });
    if (request.listServices !== undefined) {
      const names = servedServices().filter((s) => this.#services.has(s));
      return { ...base, listServicesResponse: { service: names.sort().map((name) => ({ name })) } };
    }
    if (request.fileByFilename !== undefined) {
      const files = this.#withDependencies(request.fileByFilename);
      return files
        ? { ...base, fileDescriptorResponse: { fileDescriptorProto: files } }
        : notFound(request.fileByFilename);
    }
    if (request.fileContainingSymbol !== undefined) {
      const file = this.#symbols.get(request.fileContainingSymbol.replace(/^\./, ""));
      const files = file === undefined ? undefined : this.#withDependencies(file);
      return files
        ? { ...base, fileDescriptorResponse: { fileDescriptorProto: files } }
        : notFound(`symbol ${request.fileContainingSymbol}`);
    }
    if (request.fileContainingExtension !== undefined) return notFound("extension");
    if (request.allExtensionNumbersOfType !== undefined) {
      const type = request.allExtensionNumbersOfType;
      return this.#symbols.has(type)
        ? { ...base, allExtensionNumbersResponse: { baseTypeName: type, extensionNumber: [] } }
        : notFound(`type ${type}`);
    }
    return { ...base, errorResponse: { errorCode: 3, errorMessage: "empty reflection request" } };
  }

  /** The file first, then its transitive imports, each once. */
  #withDependencies(name: string): Buffer[] | undefined {
    if (!this.#files.has(name)) return undefined;
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file) || !this.#files.has(file)) return;
      seen.add(file);
      for (const dep of this.#deps.get(file) ?? []) visit(dep);
    };
    visit(name);
    return [...seen].map((f) => this.#files.get(f) as Buffer);
  }

  #index(file: FileDescriptorProto): void {
    const pkg = file.package ? `${file.package}.` : "";
    const addMessage = (prefix: string, message: DescriptorProto): void => {
      const full = `${prefix}${message.name}`;
      this.#symbols.set(full, file.name);
      for (const nested of message.nestedType) addMessage(`${full}.`, nested);
      for (const e of message.enumType) this.#symbols.set(`${full}.${e.name}`, file.name);
    };
    for (const message of file.messageType) addMessage(pkg, message);
    for (const e of file.enumType) this.#symbols.set(`${pkg}${e.name}`, file.name);
    for (const service of file.service) {
      const full = `${pkg}${service.name}`;
      this.#services.add(full);
      this.#symbols.set(full, file.name);
      for (const method of service.method) this.#symbols.set(`${full}.${method.name}`, file.name);
    }
  }
}

interface ReflectionRequest {
  host?: string;
  fileByFilename?: string;
  fileContainingSymbol?: string;
  fileContainingExtension?: { containingType: string; extensionNumber: number };
  allExtensionNumbersOfType?: string;
  listServices?: string;
}

interface ReflectionResponse {
  validHost: string;
  originalRequest: ReflectionRequest;
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  allExtensionNumbersResponse?: { baseTypeName: string; extensionNumber: number[] };
  listServicesResponse?: { service: { name: string }[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

/** The reflection service definitions, from the .proto files @grpc/reflection ships. */
function reflectionDefinition(version: "v1" | "v1alpha"): ServiceDefinition {
  const root = dirname(createRequire(import.meta.url).resolve("@grpc/reflection/package.json"));
  const definition = loadSync(join(root, `build/proto/grpc/reflection/${version}/reflection.proto`), {
    longs: Number,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const loaded = loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: { service: ServiceDefinition } }> };
  };
  const service = loaded.grpc.reflection[version]?.ServerReflection.service;
  if (service === undefined) throw new Error(`reflection ${version} proto lacks ServerReflection`);
  return service;
}
