# syntax=docker/dockerfile:1
# One image for every prescient service; the command picks the service
# (deploy/base runs `prescient serve <service>`). Built from the repository root.
#
#   CPU:  docker build -t prescient .
#   GPU:  docker build -t prescient-gpu \
#           --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 \
#           --build-arg RUNTIME_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 .
#
# The GPU build needs the internet: onnxruntime-node's installer fetches the
# CUDA execution provider from NuGet, and the CUDA and cuDNN libraries it loads
# come from the runtime image.

# Node 26, the newest LTS line (package.json's engines: 22, 24 and 26); Debian 12, as CI.
ARG NODE_IMAGE=node:26-bookworm-slim
# The GPU build swaps in a CUDA runtime image here.
ARG RUNTIME_IMAGE=node:26-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# skip: use the CPU (and WebGPU) binaries bundled in the npm package and stay
# offline; cuda12: also download the CUDA execution provider.
ARG ONNXRUNTIME_NODE_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL}
# Everything at once: `npm ci` needs every workspace's package.json, and listing
# them one by one breaks when a package is added. The npm cache mount keeps
# reinstalls fast. package.json's allowScripts denies onnxruntime-node's
# installer (npm 11 honours that; npm 10 runs it and it obeys the variable),
# so a GPU build runs the installer itself when the CUDA provider is missing.
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund \
  && { [ "$ONNXRUNTIME_NODE_INSTALL" = skip ] \
    || [ -e node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so ] \
    || node node_modules/onnxruntime-node/script/install; }
# Build, make the example models if the checkout lacks them (they need dev
# dependencies), then drop the dev dependencies.
RUN npm run build \
  && { [ -d services/predictor/models ] || npm run models; } \
  && npm prune --omit=dev --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
WORKDIR /app
# The GPU runtime image has no Node: bring the build stage's (same path in the node image).
COPY --from=build /usr/local/bin/node /usr/local/bin/node
# Node's own binary links libatomic.so.1, which the node image has and a CUDA image may lack.
RUN ldconfig -p | grep -q 'libatomic\.so\.1 ' || { apt-get update \
  && apt-get install -y --no-install-recommends libatomic1 && rm -rf /var/lib/apt/lists/*; }
# Owned by root and not writable by the service user: with Kubernetes'
# read-only root filesystem on top, the code cannot be changed at run time.
COPY --from=build /app /app
ENV NODE_ENV=production \
  PRESCIENT_ADDR=0.0.0.0:50051
EXPOSE 50051 9464
# Numeric, so it needs no passwd entry in either base image (the node image
# calls uid 1000 `node`). Matches runAsUser in deploy/.
USER 1000:1000
# The whole mesh in one process (`prescient up`); Kubernetes overrides the
# command with `serve <service>`. Tracing starts only when OTEL_* asks for it.
CMD ["node", "--enable-source-maps", "--max-semi-space-size=32", "packages/cli/dist/main.js", "up"]
