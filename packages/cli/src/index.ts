export { type Mesh, type MeshOptions, startMesh } from "./mesh.js";
export {
  isServable,
  isServiceName,
  type Servable,
  type ServiceName,
  servableNames,
  serviceNames,
  taskHandlerName,
} from "./services.js";
