import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { cacheV1, commonV1 } from "@prescient/contracts";
import { EncodedResult } from "../store/encoded-result.js";

/**
 * LookupResponse encoding that copies a stored result's protobuf bytes
 * verbatim (an embedded message is a length-delimited field, like bytes)
 * instead of decoding and re-encoding it. Field for field the same as the
 * generated LookupResponse.encode; a test compares the two.
 */
export function encodeLookupResponse(m: cacheV1.LookupResponse, w: BinaryWriter): BinaryWriter {
  if (m.key !== "") w.uint32(10).string(m.key);
  if (m.hit) w.uint32(16).bool(true);
  if (m.result instanceof EncodedResult) w.uint32(26).bytes(m.result.encoded);
  else if (m.result !== undefined) commonV1.Result.encode(m.result, w.uint32(26).fork()).join();
  if (m.stale) w.uint32(32).bool(true);
  if (m.refreshDue) w.uint32(40).bool(true);
  if (m.degraded) w.uint32(48).bool(true);
  if (m.computed) w.uint32(56).bool(true);
  if (m.taskId !== "") w.uint32(66).string(m.taskId);
  return w;
}

export function encodeLookupManyResponse(m: cacheV1.LookupManyResponse, w: BinaryWriter): BinaryWriter {
  for (const r of m.results) encodeLookupResponse(r, w.uint32(10).fork()).join();
  return w;
}

/** The generated service definition with the pass-through encoders for Lookup and LookupMany. */
export const cacheServiceDefinition = {
  ...cacheV1.CacheServiceService,
  lookup: {
    ...cacheV1.CacheServiceService.lookup,
    responseSerialize: (value: cacheV1.LookupResponse): Buffer =>
      Buffer.from(encodeLookupResponse(value, new BinaryWriter()).finish()),
  },
  lookupMany: {
    ...cacheV1.CacheServiceService.lookupMany,
    responseSerialize: (value: cacheV1.LookupManyResponse): Buffer =>
      Buffer.from(encodeLookupManyResponse(value, new BinaryWriter()).finish()),
  },
} as const;
