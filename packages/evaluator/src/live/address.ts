import { isIP } from "node:net";
import { InvalidArgumentError } from "@prescient/core";

/**
 * Live mode sends a whole trace's worth of load, so by default it only
 * drives a mesh on this machine: a loopback address (127.0.0.0/8, ::1,
 * `localhost`) or a unix socket. Anything else needs `allowRemote`.
 */
export function hostOf(addr: string): string {
  const a = addr.trim();
  if (a.startsWith("unix:")) return "unix";
  const withoutScheme = a.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(withoutScheme);
  if (bracketed !== null) return bracketed[1]!;
  // A bare IPv6 address has several colons; host:port has one.
  if (isIP(withoutScheme) === 6) return withoutScheme;
  const colon = withoutScheme.lastIndexOf(":");
  return colon < 0 ? withoutScheme : withoutScheme.slice(0, colon);
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "unix" || h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^::ffff:127\./.test(h);
  return false;
}

export function checkLiveAddress(addr: string, allowRemote: boolean): void {
  const host = hostOf(addr);
  if (host === "") throw new InvalidArgumentError(`--addr ${JSON.stringify(addr)} names no host`);
  if (!allowRemote && !isLoopback(host))
    throw new InvalidArgumentError(
      `--addr ${addr} is not a loopback address: live mode replays a whole trace as load, so it drives only a mesh on this machine unless --allow-remote is given`,
    );
}
