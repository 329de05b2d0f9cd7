import { InvalidArgumentError } from "@prescient/core";

/**
 * The pages a block request touches. A block cache caches fixed-size pages,
 * not the byte ranges asked for (as CacheLib's block cache stressor splits a
 * request into the blocks from ⌊offset / size⌋ to ⌊(offset + length − 1) /
 * size⌋). A page is the key `<volume>.<page>`, so a scan through a volume
 * reads consecutive keys. Every block format (CacheLib, MSR Cambridge,
 * Alibaba, Tencent CBS) reads its rows through this.
 */

/** The largest number of pages one row may touch (a 1 GiB read at the default page size). */
export const maxPagesPerRow = 1024;

/** Checks a page size given for a block format (whole bytes, from a disk sector). */
export function checkPageBytes(pageBytes: number): void {
  if (!Number.isInteger(pageBytes) || pageBytes < 512)
    throw new InvalidArgumentError(
      `the block page size must be a whole number of bytes from 512, not ${pageBytes}`,
    );
}

/** `<volume>.<page>` for each page of `pageBytes` that bytes [offset, offset + size) touch. */
export function pagesOf(
  volume: string,
  offset: number,
  size: number,
  pageBytes: number,
  names: { offset: string; size: string },
): string[] {
  if (volume === "") throw new Error("the volume (block, disk or device id) is empty");
  if (!Number.isSafeInteger(size) || size < 1)
    throw new Error(`${names.size} ${size} is not a positive integer`);
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new Error(`${names.offset} ${offset} is not a non-negative integer`);
  const first = Math.floor(offset / pageBytes);
  const last = Math.floor((offset + size - 1) / pageBytes);
  if (last - first + 1 > maxPagesPerRow)
    throw new Error(`${names.size} ${size} spans more than ${maxPagesPerRow} pages of ${pageBytes} bytes`);
  return Array.from({ length: last - first + 1 }, (_, i) => `${volume}.${first + i}`);
}
