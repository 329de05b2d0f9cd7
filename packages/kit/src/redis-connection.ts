import { InvalidArgumentError } from "@prescient/core";
import { Cluster, Redis } from "ioredis";

/** A single node, a Sentinel-managed primary, or a Redis Cluster: what every store talks to. */
export type RedisClient = Redis | Cluster;

/**
 * Where Redis is, as REDIS_URL says it:
 * - `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS): one node;
 * - `redis+cluster://[user:password@]host:port,host:port,…` or `rediss+cluster://…`: seed nodes of a
 *   Redis Cluster (any few masters or replicas; the rest are discovered);
 * - `redis+sentinel://[user:password@]host:port,host:port,…/<primary name>[/db]` or
 *   `rediss+sentinel://…`: Sentinels, and the name of the primary they watch.
 */
export type RedisEndpoint =
  | { kind: "single"; url: string }
  | { kind: "cluster"; nodes: HostPort[]; username?: string; password?: string; tls: boolean }
  | {
      kind: "sentinel";
      sentinels: HostPort[];
      name: string;
      db: number;
      username?: string;
      password?: string;
      tls: boolean;
    };

export interface HostPort {
  host: string;
  port: number;
}

export interface RedisConnectionOptions {
  /** Shown in CLIENT LIST. Default "prescient". */
  connectionName: string;
  /** Connect on the first command rather than at once. Default true. */
  lazyConnect: boolean;
  /** Attempts of a command across reconnects before it fails. Default 2. */
  maxRetriesPerRequest: number;
  /** Queue commands while disconnected; false fails them at once (the cache's lookups). Default true. */
  enableOfflineQueue: boolean;
  /** A command unanswered after this long fails. Default none. */
  commandTimeoutMs: number | undefined;
}

const defaults: RedisConnectionOptions = {
  connectionName: "prescient",
  lazyConnect: true,
  maxRetriesPerRequest: 2,
  enableOfflineQueue: true,
  commandTimeoutMs: undefined,
};

/** Seed or Sentinel nodes accepted in one URL; more is a mistake, not a deployment. */
const maxNodes = 64;

/** Parses REDIS_URL; `name` is the variable or flag to blame in the error. */
export function parseRedisUrl(url: string, name = "REDIS_URL"): RedisEndpoint {
  const m = /^(rediss?)(\+cluster|\+sentinel)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?#]+)(\/[^?#]*)?$/.exec(
    url.trim(),
  );
  if (m === null)
    throw new InvalidArgumentError(
      `${name} must be redis://host:port, rediss://…, redis+cluster://host:port,… or redis+sentinel://host:port,…/primary`,
    );
  const [, scheme, mode, user, pass, hosts = "", path = ""] = m;
  if (mode === undefined) return { kind: "single", url: url.trim() };
  const tls = scheme === "rediss";
  const nodes = hosts.split(",");
  if (nodes.length > maxNodes) throw new InvalidArgumentError(`${name} lists more than ${maxNodes} nodes`);
  const parsed = nodes.map((n) => hostPort(n, name));
  const auth = {
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(pass ? { password: decodeURIComponent(pass) } : {}),
  };
  if (mode === "+cluster") {
    if (path !== "" && path !== "/")
      throw new InvalidArgumentError(`${name}: a cluster has no database number (only db 0)`);
    return { kind: "cluster", nodes: parsed, tls, ...auth };
  }
  const [, primary = "", db = "0"] = path.split("/");
  if (primary === "") throw new InvalidArgumentError(`${name}: name the Sentinel primary, …/<name>`);
  if (!/^\d{1,2}$/.test(db)) throw new InvalidArgumentError(`${name}: the database must be a number`);
  return {
    kind: "sentinel",
    sentinels: parsed,
    name: decodeURIComponent(primary),
    db: Number(db),
    tls,
    ...auth,
  };
}

function hostPort(text: string, name: string): HostPort {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (m === null || port < 1 || port > 65535)
    throw new InvalidArgumentError(`${name}: ${JSON.stringify(text.slice(0, 80))} is not host:port`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port };
}

/**
 * The one way the mesh opens Redis: a node, a Sentinel primary or a Cluster
 * from REDIS_URL, with the same reconnect and retry behaviour for each.
 * Scripts are registered on whatever this returns with `defineCommand`,
 * which both kinds of client offer, through LuaCommand (redis-scripts.ts).
 */
export function connectRedis(url: string, options?: Partial<RedisConnectionOptions>): RedisClient {
  const o = { ...defaults, ...options };
  const endpoint = parseRedisUrl(url);
  const common = {
    connectionName: o.connectionName,
    lazyConnect: o.lazyConnect,
    maxRetriesPerRequest: o.maxRetriesPerRequest,
    enableOfflineQueue: o.enableOfflineQueue,
    ...(o.commandTimeoutMs !== undefined ? { commandTimeout: o.commandTimeoutMs } : {}),
  };
  switch (endpoint.kind) {
    case "single":
      return new Redis(endpoint.url, common);
    case "sentinel":
      return new Redis({
        ...common,
        sentinels: endpoint.sentinels,
        name: endpoint.name,
        db: endpoint.db,
        ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
        ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
        ...(endpoint.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
      });
    case "cluster": {
      return new Cluster(endpoint.nodes, {
        lazyConnect: o.lazyConnect,
        enableOfflineQueue: o.enableOfflineQueue,
        // Replicas answer no reads: a result just written must be read back from its master.
        scaleReads: "master",
        redisOptions: {
          connectionName: o.connectionName,
          maxRetriesPerRequest: o.maxRetriesPerRequest,
          ...(o.commandTimeoutMs !== undefined ? { commandTimeout: o.commandTimeoutMs } : {}),
          ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
          ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
          ...(endpoint.tls ? { tls: {} } : {}),
        },
      });
    }
  }
}

/** Whether a client is a Cluster (scripts and multi-key commands must then keep to one slot). */
export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}
