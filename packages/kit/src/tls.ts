import { readFileSync } from "node:fs";
import { type ChannelCredentials, credentials, experimental, ServerCredentials } from "@grpc/grpc-js";
import type { PeerTls, ServerTls } from "./tls-config.js";

const { FileWatcherCertificateProvider } = experimental;

/** Server credentials, and when their files have first been read. */
export interface LoadingServerCredentials {
  credentials: ServerCredentials;
  /**
   * Resolves once each file has been read. grpc-js reads them only when the
   * server binds, and drops the connections that arrive before, so a host
   * waits for this before it says it listens.
   */
  loaded: Promise<void>;
}

/**
 * Server credentials that read the files again every `refreshIntervalMs`:
 * Kubernetes rotates a mounted Secret by swapping a symlink, and new
 * connections then get the new certificate (and client CA) without a
 * restart. Open connections keep the one they were made with. Plaintext when
 * `tls` is unset.
 */
export function serverCredentials(tls: ServerTls | undefined): LoadingServerCredentials {
  if (tls === undefined)
    return { credentials: ServerCredentials.createInsecure(), loaded: Promise.resolve() };
  const identity = new FileWatcherCertificateProvider({
    certificateFile: tls.certFile,
    privateKeyFile: tls.keyFile,
    refreshIntervalMs: tls.refreshIntervalMs,
  });
  const clientCa =
    tls.clientCaFile === undefined
      ? null
      : new FileWatcherCertificateProvider({
          caCertificateFile: tls.clientCaFile,
          refreshIntervalMs: tls.refreshIntervalMs,
        });
  const loaded = Promise.all([
    firstUpdate(
      identity.addIdentityCertificateListener.bind(identity),
      identity.removeIdentityCertificateListener.bind(identity),
    ),
    clientCa === null
      ? undefined
      : firstUpdate(
          clientCa.addCaCertificateListener.bind(clientCa),
          clientCa.removeCaCertificateListener.bind(clientCa),
        ),
  ]).then(() => undefined);
  // grpc-js 1.14's .d.ts names these parameters the wrong way round: the
  // implementation takes the identity provider first and the CA (nullable,
  // so that plain TLS needs none) second.
  const credentials = experimental.createCertificateProviderServerCredentials(
    identity,
    clientCa,
    clientCa !== null,
  );
  return { credentials, loaded };
}

/**
 * Resolves on a provider's first read. Listening starts the provider's
 * reads; the server's own listener, added at bind, keeps them going after
 * this one leaves, and as the provider calls listeners in the order they
 * came, the server has its credentials by the time this resolves.
 */
function firstUpdate<U>(
  add: (listener: (u: U) => void) => void,
  remove: (listener: (u: U) => void) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const listener = (): void => {
      // After the provider's loop over its listeners: removing the last one now would stop its timer before the server's is in.
      setImmediate(() => remove(listener));
      resolve();
    };
    add(listener);
  });
}

/**
 * Channel credentials for calling peers: their certificates checked against
 * `caFile`, and this process's certificate presented when it has one (for
 * peers that require mTLS), all read again every `refreshIntervalMs` for
 * new connections. Without `caFile` the system roots are trusted and the
 * files are read once, as grpc-js only watches files when it has a CA file.
 */
export function peerChannelCredentials(tls: PeerTls | undefined): ChannelCredentials {
  if (tls === undefined) return credentials.createInsecure();
  const { caFile, certFile, keyFile, refreshIntervalMs } = tls;
  if (caFile === undefined)
    return credentials.createSsl(
      null,
      keyFile === undefined ? null : readFileSync(keyFile),
      certFile === undefined ? null : readFileSync(certFile),
    );
  const ca = new FileWatcherCertificateProvider({ caCertificateFile: caFile, refreshIntervalMs });
  const identity =
    certFile === undefined || keyFile === undefined
      ? null
      : new FileWatcherCertificateProvider({
          certificateFile: certFile,
          privateKeyFile: keyFile,
          refreshIntervalMs,
        });
  return experimental.createCertificateProviderChannelCredentials(ca, identity);
}

let peer: ChannelCredentials = credentials.createInsecure();

/**
 * Sets how every internal client of this process calls its peers. Called
 * once at start-up with the validated configuration (the CLI's mesh does);
 * until then, and with `undefined`, peers are called in plaintext.
 */
export function usePeerTls(tls: PeerTls | undefined): void {
  peer = peerChannelCredentials(tls);
}

/**
 * The credentials every internal gRPC client passes, so that one setting
 * (usePeerTls) puts TLS on every call between services. One instance is
 * shared, so all channels share one set of file watchers.
 */
export function peerCredentials(): ChannelCredentials {
  return peer;
}
