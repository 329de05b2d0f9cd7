import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { IIoK8sApiNetworkingV1NetworkPolicyPeer as Peer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import type { IIoK8sApiNetworkingV1NetworkPolicyPort as PolicyPort } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort";

/**
 * Just enough of NetworkPolicy semantics to check which pods may talk:
 * additive policies, isolation per direction, pod and namespace selectors
 * with matchLabels, numeric ports. The checks assert that nothing else
 * (matchExpressions, named ports, ipBlock) is used, so this stays exact.
 */
export interface Endpoint {
  namespace: string;
  labels: Record<string, string>;
}

export function allowed(
  policies: INetworkPolicy[],
  namespace: string,
  from: Endpoint,
  to: Endpoint,
  port: number,
  protocol = "TCP",
): boolean {
  return (
    direction(policies, namespace, from, "Egress", to, port, protocol) &&
    direction(policies, namespace, to, "Ingress", from, port, protocol)
  );
}

function direction(
  policies: INetworkPolicy[],
  namespace: string,
  subject: Endpoint,
  type: "Ingress" | "Egress",
  other: Endpoint,
  port: number,
  protocol: string,
): boolean {
  // Policies live in the mesh's namespace; pods elsewhere are not isolated by them.
  if (subject.namespace !== namespace) return true;
  const selecting = policies.filter(
    (p) => matches(p.spec?.podSelector?.matchLabels, subject.labels) && policyTypes(p).includes(type),
  );
  if (selecting.length === 0) return true;
  return selecting.some((p) => {
    const rules = type === "Ingress" ? (p.spec?.ingress ?? []) : (p.spec?.egress ?? []);
    return rules.some((rule) => {
      const peers = "from" in rule ? rule.from : "to" in rule ? rule.to : undefined;
      const peerOk =
        peers === undefined ||
        peers.length === 0 ||
        peers.some((peer) => peerMatches(peer, namespace, other));
      return peerOk && portMatches(rule.ports, port, protocol);
    });
  });
}

function policyTypes(p: INetworkPolicy): string[] {
  return p.spec?.policyTypes ?? (p.spec?.egress ? ["Ingress", "Egress"] : ["Ingress"]);
}

function peerMatches(peer: Peer, namespace: string, other: Endpoint): boolean {
  if (peer.ipBlock !== undefined) return false;
  const nsOk =
    peer.namespaceSelector === undefined
      ? other.namespace === namespace
      : matches(peer.namespaceSelector.matchLabels, { "kubernetes.io/metadata.name": other.namespace });
  return nsOk && (peer.podSelector === undefined || matches(peer.podSelector.matchLabels, other.labels));
}

function portMatches(ports: PolicyPort[] | undefined, port: number, protocol: string): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => (p.protocol ?? "TCP") === protocol && (p.port === undefined || p.port === port));
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}
