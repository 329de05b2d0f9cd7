import type { commonV1 } from "@prescient/contracts";
import type { TimeSlicer } from "@prescient/core";
import { ContractTypes } from "@prescient/kit";

/**
 * A Result's protobuf bytes, as stores keep them. A result with a long
 * tensor is encoded in slices (see SlicedEncoder), so writing it does not
 * hold the event loop; every other result is encoded whole, as before.
 */
export function encodeResult(result: commonV1.Result, slicer?: TimeSlicer): Promise<Uint8Array> {
  return ContractTypes.shared().encodeInSlices("prescient.common.v1.Result", result, slicer);
}

/**
 * A result's bytes at once when it holds no tensor long enough to slice
 * (nearly every result); undefined for one that must go through
 * encodeResult. The stores' write loops take this path first: an await per
 * result cost about a third of the encode itself.
 */
export function encodeSmallResult(result: commonV1.Result): Uint8Array | undefined {
  return ContractTypes.shared().encodeWhole("prescient.common.v1.Result", result);
}
