# syntax=docker/dockerfile:1
# The gateway's image: docs/operations.md's "Running in production", as two stages.
# The build stage runs `npm ci` with every dependency (its prepare script
# compiles src/ and gen/ to dist/); the runtime stage holds only what the
# docs/operations.md copies to /opt/permission-gateway and the production install.
# test/deploy/dockerfile.test.ts holds this file's install and start commands
# to the ones test/process/production-install.test.ts runs, so they cannot
# drift apart. Guide: docs/deployment.md.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci

FROM ${NODE_IMAGE} AS runtime
WORKDIR /opt/permission-gateway
# authz/: the Cedar schema, read at run time.
COPY --from=build /build/package.json /build/package-lock.json /build/.npmrc ./
COPY --from=build /build/dist ./dist
COPY --from=build /build/authz ./authz
# Runtime dependencies only; prepare finds no TypeScript and keeps dist/ as built.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

# Safe by default: the gateway listens on every interface of the container,
# which it refuses to do until AUTH_MODE names an authentication mode (or
# ALLOW_UNAUTHENTICATED=true says otherwise in so many words). Nothing here
# is written at run time: the files belong to root and are read-only to the
# gateway, so the root filesystem can be mounted read-only; the only writes
# (Node's compile cache, when enabled) go to os.tmpdir(), /tmp, which the
# Kubernetes manifests mount as an emptyDir.
ENV HOST=0.0.0.0
EXPOSE 8080
# The numeric id of the image's `node` user, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
STOPSIGNAL SIGTERM
# node itself, not npm and not the base image's entrypoint script: node is
# PID 1, SIGTERM reaches the gateway, which drains and exits with its own
# code (0 clean, 1 calls cut or a fatal error, 2 configuration). Arguments
# go to the gateway: `docker run <image> --help` lists its settings.
ENTRYPOINT ["node", "dist/src/main.js"]
