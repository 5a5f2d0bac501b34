# One image for every app of the control plane: the command chooses the app
# (`node dist/apps/<app>/src/main.js`), as docker-compose.yml and deploy/ do. The operators' CLI is one of them:
# `docker run --rm -e EVENTSTORE_URL=… <image> node dist/apps/tenantctl/src/main.js list`.
# Build: docker build --build-arg VERSION=$(node -p "require('./package.json').version") -t collect-verything/provisioning:<version> .
ARG NODE_VERSION=24.21.0

# Build stage: every dependency (the TypeScript toolchain, and the `node` devDependency whose install script
# fetches the Node the npm scripts run on), then the compiled output.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Runtime stage: the same base, production dependencies only, installed without running any package's scripts.
FROM node:${NODE_VERSION}-bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="collect-verything-provisioning" \
      org.opencontainers.image.description="Tenant provisioning control plane of Collect & Verything (one image, every app)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="UNLICENSED"
# git: the k8s-service and monitoring-service commit tenant manifests to the GitOps repository.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Root owns the application files; the process runs as the base image's unprivileged `node` user (uid 1000).
USER node
# /health of the app: the API on PORT, every other app on HEALTH_PORT (unset: no endpoint, so unhealthy).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const p=process.env.HEALTH_PORT||process.env.PORT;if(!p){console.error('set HEALTH_PORT (or PORT)');process.exit(1)}fetch('http://127.0.0.1:'+p+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/apps/provisioning-api/src/main.js"]
