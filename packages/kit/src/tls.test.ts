import { renameSync, symlinkSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  type ChannelCredentials,
  type Client,
  credentials,
  Metadata,
  makeClientConstructor,
  type ServiceDefinition,
  type ServiceError,
  status,
} from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { pino } from "pino";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { isConfigError, loadEnv } from "./config.js";
import { isLoopback, ServiceHost } from "./service-host.js";
import { type CertFiles, TestPki } from "./testing/certs.js";
import { freePort } from "./testing/index.js";
import { peerChannelCredentials } from "./tls.js";
import { type ServerTls, tlsConfigFrom, tlsEnvShape } from "./tls-config.js";

type HealthClient = Client & {
  check(
    request: { service: string },
    metadata: Metadata,
    options: { deadline: number },
    callback: (error: ServiceError | null, response?: { status: string | number }) => void,
  ): void;
};
const HealthClient = makeClientConstructor(
  healthService as unknown as ServiceDefinition,
  "grpc.health.v1.Health",
);

const byName = (address: string): string => address.replace(/^127\.0\.0\.1:/, "localhost:");

/** One health check over a fresh connection (no subchannel shared with an earlier test): its status, or the error. */
function check(address: string, creds: ChannelCredentials): Promise<string> {
  // By name: Node 24+ refuses a TLS server name that is an IP address, which grpc-js sets from an IP target.
  const client = new HealthClient(byName(address), creds, {
    "grpc.use_local_subchannel_pool": 1,
  }) as unknown as HealthClient;
  return new Promise((resolve) => {
    client.check({ service: "" }, new Metadata(), { deadline: Date.now() + 3000 }, (error, response) => {
      client.close();
      resolve(error ? `${status[error.code]}: ${error.details}` : String(response?.status));
    });
  });
}

const pki = new TestPki();
let ca: CertFiles;
let otherCa: CertFiles;
let server: CertFiles;
let client: CertFiles;
let strangerClient: CertFiles;
let expired: CertFiles;
let otherServer: CertFiles;
const hosts: ServiceHost[] = [];

beforeAll(() => {
  ca = pki.authority("ca");
  otherCa = pki.authority("other-ca");
  server = pki.issue(ca, "server");
  client = pki.issue(ca, "client", { altNames: "DNS:client" });
  strangerClient = pki.issue(otherCa, "stranger", { altNames: "DNS:stranger" });
  expired = pki.issue(ca, "expired", { days: -1 });
  otherServer = pki.issue(otherCa, "other-server");
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.shutdown()));
});

async function serve(tls: Partial<ServerTls> & Pick<ServerTls, "certFile" | "keyFile">): Promise<string> {
  const host = new ServiceHost({
    address: "127.0.0.1:0",
    drainTimeoutMs: 100,
    logger: pino({ level: "silent" }),
    tls: { clientCaFile: undefined, refreshIntervalMs: 60_000, ...tls },
  });
  hosts.push(host);
  host.setServing("x", true);
  await host.start();
  return host.address;
}

const trusting = (authority: CertFiles, identity?: CertFiles): ChannelCredentials =>
  credentials.createSsl(
    pki.read(authority.cert),
    identity ? pki.read(identity.key) : null,
    identity ? pki.read(identity.cert) : null,
  );

describe("TLS", () => {
  it("serves a client that trusts the server's CA", async () => {
    const address = await serve({ certFile: server.cert, keyFile: server.key });
    expect(await check(address, trusting(ca))).toBe("SERVING");
  });

  it("refuses a plaintext client", async () => {
    const address = await serve({ certFile: server.cert, keyFile: server.key });
    expect(await check(address, credentials.createInsecure())).toMatch(/^UNAVAILABLE/);
  });

  it("is refused by a client that trusts another CA", async () => {
    const address = await serve({ certFile: server.cert, keyFile: server.key });
    expect(await check(address, trusting(otherCa))).toMatch(/^UNAVAILABLE: .*certificate/i);
  });

  it("is refused by a client when the server's certificate has expired", async () => {
    const address = await serve({ certFile: expired.cert, keyFile: expired.key });
    expect(await check(address, trusting(ca))).toMatch(/^UNAVAILABLE: .*expired/i);
  });
});

describe("mTLS", () => {
  const mtls = () => serve({ certFile: server.cert, keyFile: server.key, clientCaFile: ca.cert });

  it("serves a client whose certificate the client CA signed", async () => {
    expect(await check(await mtls(), trusting(ca, client))).toBe("SERVING");
  });

  it("refuses a client without a certificate", async () => {
    expect(await check(await mtls(), trusting(ca))).toMatch(/^UNAVAILABLE/);
  });

  it("refuses a client whose certificate another CA signed", async () => {
    expect(await check(await mtls(), trusting(ca, strangerClient))).toMatch(/^UNAVAILABLE/);
  });

  it("peer credentials watch the CA and the identity files and present the identity", async () => {
    const address = await mtls();
    const peer = { caFile: ca.cert, certFile: client.cert, keyFile: client.key, refreshIntervalMs: 60_000 };
    expect(await check(address, peerChannelCredentials(peer))).toBe("SERVING");
    const anonymous = { ...peer, certFile: undefined, keyFile: undefined };
    expect(await check(address, peerChannelCredentials(anonymous))).toMatch(/^UNAVAILABLE/);
    expect(await check(address, peerChannelCredentials({ ...peer, caFile: otherCa.cert }))).toMatch(
      /^UNAVAILABLE/,
    );
  });
});

describe("the probe port", () => {
  it("answers health in plaintext while the main port requires mTLS", async () => {
    const healthAddress = `127.0.0.1:${await freePort()}`;
    const host = new ServiceHost({
      address: "127.0.0.1:0",
      drainTimeoutMs: 100,
      logger: pino({ level: "silent" }),
      tls: { certFile: server.cert, keyFile: server.key, clientCaFile: ca.cert, refreshIntervalMs: 60_000 },
      healthAddress,
    });
    hosts.push(host);
    host.setServing("x", true);
    await host.start();
    expect(await check(healthAddress, credentials.createInsecure())).toBe("SERVING");
    expect(await check(host.address, credentials.createInsecure())).toMatch(/^UNAVAILABLE/);
  });
});

describe("rotation", () => {
  it("new connections get the certificate the files hold now", async () => {
    // As the kubelet mounts a Secret: files reached through a `..data` symlink that is swapped at once.
    const mount = join(pki.dir, "mount");
    await mkdir(join(mount, "v1"), { recursive: true });
    await mkdir(join(mount, "v2"), { recursive: true });
    const place = (dir: string, files: CertFiles): void => {
      symlinkSync(files.cert, join(mount, dir, "tls.crt"));
      symlinkSync(files.key, join(mount, dir, "tls.key"));
    };
    place("v1", server);
    place("v2", otherServer);
    symlinkSync("v1", join(mount, "..data"));
    symlinkSync("..data/tls.crt", join(mount, "tls.crt"));
    symlinkSync("..data/tls.key", join(mount, "tls.key"));
    const address = await serve({
      certFile: join(mount, "tls.crt"),
      keyFile: join(mount, "tls.key"),
      refreshIntervalMs: 100,
    });
    expect(await check(address, trusting(ca))).toBe("SERVING");

    symlinkSync("v2", join(mount, "..data.new"));
    renameSync(join(mount, "..data.new"), join(mount, "..data"));
    const deadline = Date.now() + 5000;
    let seen = "";
    while (Date.now() < deadline && seen !== "SERVING") {
      await new Promise((r) => setTimeout(r, 100));
      seen = await check(address, trusting(otherCa));
    }
    expect(seen).toBe("SERVING");
    expect(await check(address, trusting(ca))).toMatch(/^UNAVAILABLE/);
  });
});

describe("TLS configuration", () => {
  const load = (env: NodeJS.ProcessEnv) => tlsConfigFrom(loadEnv(tlsEnvShape, env));
  const failure = (env: NodeJS.ProcessEnv): string => {
    try {
      load(env);
    } catch (e) {
      expect(isConfigError(e)).toBe(true);
      return (e as Error).message;
    }
    throw new Error("expected a configuration error");
  };

  it("is plaintext both ways when nothing is set", () => {
    expect(load({})).toEqual({ server: undefined, peer: undefined, healthAddress: undefined });
  });

  it("turns on TLS for the server and for peers with a certificate, and mTLS with a client CA", () => {
    const c = load({
      PRESCIENT_TLS_CERT: server.cert,
      PRESCIENT_TLS_KEY: server.key,
      PRESCIENT_TLS_CLIENT_CA: ca.cert,
      PRESCIENT_TLS_CA: ca.cert,
      PRESCIENT_TLS_REFRESH_MS: "5000",
    });
    expect(c.server).toEqual({
      certFile: server.cert,
      keyFile: server.key,
      clientCaFile: ca.cert,
      refreshIntervalMs: 5000,
    });
    expect(c.peer).toEqual({
      caFile: ca.cert,
      certFile: server.cert,
      keyFile: server.key,
      refreshIntervalMs: 5000,
    });
  });

  it("names the variable of a missing or unreadable file", () => {
    expect(failure({ PRESCIENT_TLS_CERT: "/nope.pem", PRESCIENT_TLS_KEY: server.key })).toBe(
      'invalid configuration: PRESCIENT_TLS_CERT ("/nope.pem"): cannot read the file (ENOENT)',
    );
    expect(failure({ PRESCIENT_TLS_CA: server.key })).toBe(
      `invalid configuration: PRESCIENT_TLS_CA (${JSON.stringify(server.key)}): not a PEM certificate`,
    );
    expect(failure({ PRESCIENT_TLS_CERT: server.cert, PRESCIENT_TLS_KEY: server.cert })).toContain(
      "PRESCIENT_TLS_KEY",
    );
  });

  it("refuses a certificate without its key, a key of another certificate and mTLS without TLS", () => {
    expect(failure({ PRESCIENT_TLS_CERT: server.cert })).toBe(
      "invalid configuration: PRESCIENT_TLS_KEY (unset): required with PRESCIENT_TLS_CERT",
    );
    expect(failure({ PRESCIENT_TLS_CERT: server.cert, PRESCIENT_TLS_KEY: client.key })).toMatch(
      /^invalid configuration: PRESCIENT_TLS_KEY \(.*\): is not the key of the certificate in PRESCIENT_TLS_CERT$/,
    );
    expect(failure({ PRESCIENT_TLS_CLIENT_CA: ca.cert })).toMatch(
      /PRESCIENT_TLS_CERT \(unset\): required with/,
    );
  });
});

describe("plaintext off loopback", () => {
  it("knows loopback addresses", () => {
    for (const a of ["127.0.0.1:1", "127.1.2.3:1", "localhost:1", "[::1]:1"])
      expect(isLoopback(a)).toBe(true);
    for (const a of ["0.0.0.0:1", "[::]:1", "10.0.0.1:1", "cache:50051"]) expect(isLoopback(a)).toBe(false);
  });

  it("warns once when a plaintext server binds beyond loopback, and not with TLS", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const start = async (tls: ServerTls | undefined) => {
      const host = new ServiceHost({
        address: "0.0.0.0:0",
        drainTimeoutMs: 100,
        logger: pino({ level: "warn" }, sink),
        tls,
      });
      hosts.push(host);
      await host.start();
    };
    await start(undefined);
    expect(lines.filter((l) => l.includes("without TLS"))).toHaveLength(1);
    await start({
      certFile: server.cert,
      keyFile: server.key,
      clientCaFile: undefined,
      refreshIntervalMs: 60_000,
    });
    expect(lines.filter((l) => l.includes("without TLS"))).toHaveLength(1);
  });
});
