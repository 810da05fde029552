# The iotwatch sensor image: `iotwatch sensor` on a SPAN port (see docker-compose.yml).
# Two stages: the build stage has the compilers that the optional native package 'cap'
# (libpcap bindings) needs; the runtime stage has only libpcap and the built service.

FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap-dev python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp builds 'cap' against the image's own Node headers instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
# --ignore-scripts: the package's prepare script compiles everything, benches and their test
# helpers included; the image compiles only the service below. cap is then built on its own,
# and loaded once so that a failed native build fails the image instead of the first capture.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild cap \
 && node -e "require('cap')"
COPY bin ./bin
COPY src ./src
COPY detectors ./detectors
RUN printf '{"extends": "./tsconfig.json", "include": ["src/**/*.ts", "detectors/**/*.ts"]}\n' > tsconfig.image.json \
 && npx tsc -p tsconfig.image.json \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
# The web console's static files, found from dist/src/api through src/api/console.
COPY --from=build /app/src/api/console ./src/api/console
ENV NODE_ENV=production \
    IOTWATCH_HOME=/var/lib/iotwatch
VOLUME /var/lib/iotwatch
# Runs as root inside the container: live capture needs CAP_NET_RAW (and CAP_NET_ADMIN for
# promiscuous mode), which docker-compose grants with cap_add, and nothing more.
ENTRYPOINT ["node", "/app/bin/iotwatch.js"]
CMD ["--help"]
