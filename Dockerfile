# syntax=docker/dockerfile:1
#
# One image for every service. The container's command picks the service:
#   node dist/apps/gateway/src/main.js              (default CMD, HTTP API on PORT=8283)
#   node dist/apps/orchestrator/src/main.js
#   node dist/apps/llm-worker/src/main.js
#   node dist/apps/callback-dispatcher/src/main.js
#   node dist/apps/projector/src/main.js
#   node dist/apps/fake-model/src/main.js           (OpenAI-compatible stand-in, dev/test only)
#   node dist/tools/migrate/src/main.js             (applies read-model migrations, then exits)
# Non-HTTP services answer GET /livez, /readyz and /metrics on HEALTH_PORT when it is set.
#
#   docker build -t letta-jetstream-server:local .

# Node 22 LTS (Node 20 reached its end of life in April 2026); package.json's engines still allow 20.19+.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: full dependency tree, compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.base.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
RUN npm run build

# ---- prod-deps: runtime dependencies only (no embedded Postgres, no test or build tools) ----
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# One JSON object per log line (time, level, service, run_id, agent_id) for log pipelines; README, "Operations".
ENV LOG_FORMAT=json
WORKDIR /app
# Everything stays owned by root and is only read by the service, so the container works
# with a read-only root filesystem.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The image's built-in non-root user (uid/gid 1000); Kubernetes manifests pin runAsUser: 1000.
USER node
EXPOSE 8283 8080
# node runs as PID 1 directly (no npm wrapper) so SIGTERM reaches Nest's shutdown hooks.
CMD ["node", "dist/apps/gateway/src/main.js"]
