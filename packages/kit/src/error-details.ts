import { homedir, tmpdir } from "node:os";
import { sep } from "node:path";

/**
 * Most characters of an error's details sent to a client. Details of several
 * MB were seen: a client with the default 4 MiB receive limit then gets
 * RESOURCE_EXHAUSTED instead of the real code, and a log line per call grows
 * to match. A thousand characters name any problem; quoting the input whole
 * helps nobody.
 */
export const maxErrorDetailsChars = 1000;

/** First path segments under which absolute paths are internal: never shown to clients. */
const commonRoots = [
  "app",
  "data",
  "etc",
  "home",
  "models",
  "mnt",
  "opt",
  "private",
  "proc",
  "root",
  "run",
  "srv",
  "tmp",
  "Users",
  "usr",
  "var",
  "work",
  "workspace",
];

const firstSegment = (path: string): string | undefined => path.split(sep).filter(Boolean)[0];

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * An absolute path under one of the roots (plus those of the working
 * directory, the temp folder and home), as a `file://` URL or bare, with at
 * least two segments, and not part of a longer token (a URL's path, a gRPC
 * method name like /pkg.Service/Method stay as they are).
 */
const absolutePath = (() => {
  const roots = new Set(commonRoots);
  for (const p of [process.cwd(), tmpdir(), homedir()]) {
    const first = firstSegment(p);
    if (first !== undefined) roots.add(first);
  }
  const alternatives = [...roots].map(escapeRegExp).join("|");
  return new RegExp(
    `(?<![\\w.:/~-])(?:file://)?/(?:${alternatives})(?:/[^\\s/"'\`,;:()<>\\[\\]{}]+)+/?`,
    "g",
  );
})();

/** Replaces internal absolute paths with `<path>/` plus their last segment, which is usually what matters. */
export function scrubPaths(text: string): string {
  return text.replace(absolutePath, (match) => {
    const last = match.split("/").filter(Boolean).at(-1) ?? "";
    return `<path>/${last}`;
  });
}

/** Details safe to send: no internal paths, at most `maxChars` characters, an ellipsis marking a cut. */
export function safeErrorDetails(text: string, maxChars = maxErrorDetailsChars): string {
  // Cut first so that scrubbing a multi-megabyte message costs no more than a short one.
  const head = text.length > maxChars * 4 ? text.slice(0, maxChars * 4) : text;
  const scrubbed = scrubPaths(head);
  if (scrubbed.length <= maxChars && head.length === text.length) return scrubbed;
  let cut = maxChars - 1;
  // Never split a surrogate pair: half of one becomes U+FFFD on the wire.
  const code = scrubbed.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${scrubbed.slice(0, cut)}…`;
}
