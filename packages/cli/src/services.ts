/** The five services of the mesh, as `prescient serve <service>` names them. */
export const serviceNames = ["analyzer", "predictor", "precomputer", "executor", "cache"] as const;

export type ServiceName = (typeof serviceNames)[number];

export function isServiceName(name: string): name is ServiceName {
  return (serviceNames as readonly string[]).includes(name);
}

/**
 * The reference TaskHandlerService as a process of its own: the example
 * handler of the external task types in a split deployment, to be replaced by
 * yours. Not one of the five services: `up` mounts it in process when it runs
 * all five, and whatever iterates the mesh's services leaves it out.
 */
export const taskHandlerName = "task-handler";

/** What `prescient serve` runs: one of the five services, or the reference task handler. */
export const servableNames = [...serviceNames, taskHandlerName] as const;

export type Servable = (typeof servableNames)[number];

export function isServable(name: string): name is Servable {
  return (servableNames as readonly string[]).includes(name);
}
