# syntax=docker/dockerfile:1
# Multi-stage build of seccompctl: one image for every role (webhook, manager, daemon, recorder, enricher).
# Mirrors scripts/setup and `npm run build`; keep the package lists in step with that script.

FROM node:20-bookworm AS builder
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libseccomp-dev pkg-config make g++ python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The official node image ships its headers under /usr/local/include/node: build against them, never download.
RUN npm run build && npm prune --omit=dev

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libbpf1 libelf1 libseccomp2 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /usr/local/bin/node /usr/local/bin/node
WORKDIR /opt/seccomp-profiles-operator
COPY --from=builder /src/package.json ./
COPY --from=builder /src/node_modules ./node_modules
COPY --from=builder /src/dist ./dist
COPY --from=builder /src/native/build/Release ./native/build/Release
COPY --from=builder /src/manifests/crds ./manifests/crds
# The manager creates DaemonSet spod from it when the cluster has none (src/manager/spod-base.ts).
COPY --from=builder /src/manifests/base/daemon-daemonset.yaml ./manifests/base/daemon-daemonset.yaml
# 65532 is the conventional "nonroot" user; the webhook, manager and daemon run as it. The recorder and enricher
# containers override runAsUser in the DaemonSet because loading eBPF and reading the audit log need root.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/node", "/opt/seccomp-profiles-operator/dist/src/cli/main.js"]
