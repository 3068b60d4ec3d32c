# syntax=docker/dockerfile:1
# Multi-stage: build with dev dependencies, run with production dependencies only, as a non-root
# user, with node as PID 1 so SIGTERM reaches the broker directly (it drains and exits 0).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY migrations ./migrations
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER 10001:10001
EXPOSE 3000
# The same image runs the sandbox (`node dist/apps/sandbox/src/main.js`), migrations
# (`node dist/apps/broker/src/database/migrate.js`) and key rotation (`node dist/apps/broker/src/keys/rotate-keys.js`).
CMD ["node", "dist/apps/broker/src/main.js"]
