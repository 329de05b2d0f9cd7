export { type Mesh, type MeshOptions, startMesh } from "./mesh.js";
export { grpcServiceOf, isServiceName, type ServiceName, serviceNames } from "./services.js";
