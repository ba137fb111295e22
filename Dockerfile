# syntax=docker/dockerfile:1
#
#   docker build -t transform-api .                                        # the production image (last stage)
#   docker build --target shoutcloud-server -t transform-api-shoutcloud .  # the bundled Shoutcloud-compatible server
#
# The base is an ARG so it can be swapped (a mirror, a patched image, the offline stand-in of
# `npm run test:container`); keep it on a Node LTS line, pinned by version.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app

# Install and build. --ignore-scripts: nothing here needs an install script, and none may fetch binaries.
FROM base AS build
COPY package.json package-lock.json .npmrc ./
COPY test/deploy/shellcheck-from-path/package.json test/deploy/shellcheck-from-path/
RUN npm ci --ignore-scripts --no-audit --no-fund
# The context is an allow-list (.dockerignore): sources and build configuration only.
COPY . .
# /out/app is what production runs: the build without the bundled Shoutcloud-compatible server.
RUN npm run build \
    && mkdir -p /out/app \
    && cp -R package.json dist /out/app/ \
    && rm -rf /out/app/dist/shoutcloud-server

# Production dependencies only. --omit=optional drops typescript, which npm keeps for production as
# an optional peer of @nestjs/swagger (its build-time plugin); nothing else there is optional.
FROM base AS prod-deps
COPY package.json package-lock.json .npmrc ./
COPY test/deploy/shellcheck-from-path/package.json test/deploy/shellcheck-from-path/
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# For development clusters and tests only (deploy/components/shoutcloud-selfhosted): no
# dependencies, and no fault switches unless SHOUTCLOUD_SERVER_CONTROL=on.
FROM base AS shoutcloud-server
LABEL org.opencontainers.image.title="transform-api-shoutcloud" \
      org.opencontainers.image.description="Shoutcloud-compatible server bundled with transform-api" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production PORT=8080
EXPOSE 8080
USER 1000:1000
# One CMD per stage; the linter counts them across stages.
# linter ignore=EI0001
CMD ["node", "dist/shoutcloud-server/main.js"]
COPY --from=build /app/package.json ./
COPY --from=build /app/dist ./dist

# The production image. Metadata first, files last: a source change rebuilds only the last layer.
FROM base AS runtime
ARG NODE_IMAGE
ARG VERSION=1.0.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/transform-api/transform-api
LABEL org.opencontainers.image.title="transform-api" \
      org.opencontainers.image.description="Reverses a string by user-perceived characters and returns it in capitals from Shoutcloud" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# Node's compile cache (V8 bytecode of every module loaded at start-up), primed below at build
# time: start-up is mostly compiling modules, and a pod's root filesystem is read-only, so the
# cache has to ship in the image. Node only reads it at run time (and skips files it cannot write).
ENV NODE_ENV=production NODE_COMPILE_CACHE=/app/.compile-cache
# All interfaces, said here rather than left to a default: `npm start` listens on loopback only.
ENV HOST=0.0.0.0
EXPOSE 3000
# Node is PID 1 (the base image's entrypoint execs it) and handles SIGTERM itself: drain, exit 0.
CMD ["node", "dist/main.js"]
# COPY leaves files owned by root, so the app cannot change its own code or dependencies, and
# the root filesystem can be mounted read-only.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /out/app/ ./
COPY LICENSE ./
# Builds the application as a start would (no listening, no Redis or Shoutcloud call), then
# writes the cache; as root, so the running app cannot alter it.
RUN node --input-type=module -e "import module from 'node:module'; \
      const { createApp } = await import('./dist/app.setup.js'); await (await createApp({ LOG_LEVEL: 'warn' })).init(); \
      module.flushCompileCache(); process.exit(0);"
# The official image's `node` user, by number so that Kubernetes can check runAsNonRoot.
USER 1000:1000
