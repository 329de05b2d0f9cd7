import { readFileSync } from "node:fs";
import {
  type ChannelCredentials,
  type ClientOptions,
  credentials,
  InterceptingCall,
  type Interceptor,
} from "@grpc/grpc-js";
import { errorMessage, InvalidArgumentError, isDomainError } from "@prescient/core";
import { clientChannelOptions, isGrpcError, statusName } from "@prescient/kit";
import { type Command, Option, InvalidArgumentError as UsageError } from "commander";
import { isBrokenPipe } from "./broken-pipe.js";

/** Flags every client command takes. */
export interface ClientFlags {
  addr: string;
  json: boolean;
  timeout: number;
  /** CA bundle to trust (PEM): turns TLS on. */
  tlsCa?: string;
  /** Client certificate (PEM), for a server that requires mTLS. */
  tlsCert?: string;
  tlsKey?: string;
  /** Bearer token sent with every call, for a mesh with auth on. */
  token?: string;
}

/** What a command needs to reach its server. */
export type ClientTarget = Pick<ClientFlags, "addr" | "tlsCa" | "tlsCert" | "tlsKey" | "token">;

/** Adds --addr, --timeout, the TLS files and (unless the command uses --json for input) the --json output flag. */
export function withClientFlags(
  command: Command,
  options: { jsonFlag: boolean } = { jsonFlag: true },
): Command {
  command
    .option("--addr <host:port>", "address of the mesh or service", "127.0.0.1:50051")
    .option("--timeout <ms>", "deadline of each call", parsePositiveInt, 10_000);
  withConnectionFlags(command);
  return options.jsonFlag ? command.option("--json", "print JSON", false) : command;
}

/** Adds the TLS files and the bearer token: for commands with an --addr of their own (replay --live). */
export function withConnectionFlags(command: Command): Command {
  return (
    command
      // The variables a service's own peer clients read, so a command run in a pod calls as the pod does.
      .addOption(new Option("--tls-ca <file>", "CA bundle to trust: turns TLS on").env("PRESCIENT_TLS_CA"))
      .addOption(new Option("--tls-cert <file>", "client certificate, for mTLS").env("PRESCIENT_TLS_CERT"))
      .addOption(new Option("--tls-key <file>", "client private key, for mTLS").env("PRESCIENT_TLS_KEY"))
      // PRESCIENT_TOKEN rather than the flag keeps the token out of `ps` and shell history.
      .addOption(
        new Option("--token <token>", "bearer token, for a mesh with auth on").env("PRESCIENT_TOKEN"),
      )
  );
}

/**
 * Plaintext unless a TLS file is given (the system roots are trusted when
 * only a client pair is); a certificate without its key, or the reverse, is
 * refused rather than silently dropped.
 */
export function clientCredentials(flags: Omit<ClientTarget, "addr">): ChannelCredentials {
  const { tlsCa, tlsCert, tlsKey } = flags;
  if (tlsCa === undefined && tlsCert === undefined && tlsKey === undefined)
    return credentials.createInsecure();
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw new InvalidArgumentError("--tls-cert and --tls-key go together");
  return credentials.createSsl(
    readPem("--tls-ca", tlsCa),
    readPem("--tls-key", tlsKey),
    readPem("--tls-cert", tlsCert),
  );
}

/** Client options with, when a token is given, an `authorization: Bearer` header on every call. */
export function clientOptions(flags: Pick<ClientTarget, "token">): ClientOptions {
  const options = clientChannelOptions();
  const { token } = flags;
  if (token === undefined || token === "") return options;
  if (/\s/.test(token)) throw new InvalidArgumentError("--token must not contain spaces");
  const bearer: Interceptor = (callOptions, nextCall) =>
    new InterceptingCall(nextCall(callOptions), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
  return { ...options, interceptors: [bearer, ...(options.interceptors ?? [])] };
}

function readPem(flag: string, path: string | undefined): Buffer | null {
  if (path === undefined) return null;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InvalidArgumentError(
      `${flag} ${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

export function parsePositiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`expected a positive integer, got ${text}`);
  return n;
}

export function parsePositiveNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`expected a positive number, got ${text}`);
  return n;
}

/** Runs a client action and turns failures into one readable line and exit code 1. */
export async function runClient(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    // A file argument such as /dev/stdout whose reader left (`| head`): as quiet as stdout itself (broken-pipe.ts).
    if (isBrokenPipe(e)) return;
    if (isGrpcError(e)) {
      process.stderr.write(`error: ${statusName(e.code)}: ${e.details}\n`);
    } else if (isDomainError(e)) {
      process.stderr.write(`error: ${e.message}\n`);
    } else {
      process.stderr.write(`error: ${errorMessage(e)}\n`);
    }
    process.exitCode = 1;
  }
}
