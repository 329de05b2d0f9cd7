import { elementCount, type HostTensor, type TypedArray } from "../tensors/datatypes.js";

/**
 * Merging requests along the batch dimension (dim 0) and splitting a batch's
 * outputs back by each request's row count.
 */

/** Concatenates each input across requests; every request holds the same inputs in the same order. */
export function mergeInputs(requests: readonly (readonly HostTensor[])[]): HostTensor[] {
  const first = requests[0];
  if (first === undefined) return [];
  if (requests.length === 1) return [...first];
  return first.map((tensor, i) => {
    const parts = requests.map((r) => r[i]!);
    const rows = parts.reduce((sum, p) => sum + (p.shape[0] ?? 0), 0);
    const total = parts.reduce((sum, p) => sum + p.data.length, 0);
    const data = allocLike(tensor.data, total);
    let offset = 0;
    for (const p of parts) {
      setInto(data, p.data, offset);
      offset += p.data.length;
    }
    return { datatype: tensor.datatype, shape: [rows, ...tensor.shape.slice(1)], data };
  });
}

/**
 * Splits batch outputs into per-request outputs. Views share the batch's
 * buffers: nothing is copied until the response is encoded.
 */
export function splitOutputs(
  outputs: readonly HostTensor[],
  rowsPerRequest: readonly number[],
): HostTensor[][] {
  if (rowsPerRequest.length === 1) return [[...outputs]];
  const totalRows = rowsPerRequest.reduce((a, b) => a + b, 0);
  for (const [i, out] of outputs.entries()) {
    if (out.shape[0] !== totalRows)
      throw new Error(
        `output ${i} has ${out.shape[0]} rows for a batch of ${totalRows}: the model does not batch along dim 0`,
      );
  }
  const result: HostTensor[][] = rowsPerRequest.map(() => []);
  let row = 0;
  for (const [r, rows] of rowsPerRequest.entries()) {
    for (const out of outputs) {
      const rowSize = elementCount(out.shape.slice(1));
      const data = out.data.subarray(row * rowSize, (row + rows) * rowSize) as TypedArray;
      result[r]!.push({ datatype: out.datatype, shape: [rows, ...out.shape.slice(1)], data });
    }
    row += rows;
  }
  return result;
}

function allocLike(a: TypedArray, n: number): TypedArray {
  const Ctor = a.constructor as new (n: number) => TypedArray;
  return new Ctor(n);
}

function setInto(target: TypedArray, source: TypedArray, offset: number): void {
  // Same element type by construction (one model input); TypeScript cannot see through the union.
  (target as Float32Array).set(source as Float32Array, offset);
}
