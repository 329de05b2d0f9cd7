/** The five services of the mesh, as `prescient serve <service>` names them. */
export const serviceNames = ["analyzer", "predictor", "precomputer", "executor", "cache"] as const;

export type ServiceName = (typeof serviceNames)[number];

export function isServiceName(name: string): name is ServiceName {
  return (serviceNames as readonly string[]).includes(name);
}
