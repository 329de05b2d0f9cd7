import { readFileSync } from "node:fs";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { descriptorSetPath } from "@prescient/contracts";

/** Every method of every service in the exact descriptor set the mesh serves. */
export function describedMethods(): string[] {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath));
  return set.file.flatMap((file) =>
    file.service.flatMap((service) =>
      service.method.map((m) => `/${file.package ? `${file.package}.` : ""}${service.name}/${m.name}`),
    ),
  );
}
