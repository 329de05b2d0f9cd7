export { type Mesh, type MeshOptions, startMesh } from "./mesh.js";
export { isServiceName, type ServiceName, serviceNames } from "./services.js";
