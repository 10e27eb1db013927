# syntax=docker/dockerfile:1
# Three stages: GraphiQL's pinned browser files from npm; wheels of the CMS (with those files
# inside) and of every runtime dependency that uv.lock pins; and a slim runtime that installs
# exactly those wheels, with no compiler, no Node.js, no pip cache, running as an unprivileged
# user.

FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
# --omit=dev: the devDependencies (graphql-http's audits) are for CI, not for the image.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && mkdir /vendor \
    && cp node_modules/react/umd/react.production.min.js \
          node_modules/react-dom/umd/react-dom.production.min.js \
          node_modules/graphiql/graphiql.min.js \
          node_modules/graphiql/graphiql.min.css /vendor/

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY tools ./tools
COPY cms ./cms
COPY --from=assets /vendor ./cms/web/static/vendor
# uv comes from the lock's own hashes; the wheelhouse holds exactly what uv.lock pins for the
# runtime (hash-checked) and the CMS itself. The runtime installs these and no others.
RUN python tools/bootstrap_uv.py uv.lock \
    && tools/wheelhouse.sh /wheels

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheels are mounted, not copied, so that no layer keeps them.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --no-deps /wheels/*.whl \
    && pip check \
    && groupadd --gid 10001 cms \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin cms
USER 10001:10001
WORKDIR /home/cms
# CMS_WORKERS above 1 needs PostgreSQL (see docker-compose.yml); SQLite allows one writer.
ENV CMS_ENV=production \
    CMS_HOST=0.0.0.0 \
    CMS_PORT=8000 \
    CMS_WORKERS=1 \
    CMS_DATABASE_URL=sqlite:///home/cms/cms.sqlite3
EXPOSE 8000
# Liveness only: /readyz (database, migrations, Redis) is for load balancers, which should stop
# sending traffic while a dependency is away, not restart the container.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('CMS_PORT', '8000')}/healthz\", timeout=2)"]
# Migrations run on every start: they are idempotent, and a new image may bring new ones.
# exec makes uvicorn PID 1's successor, so that SIGTERM reaches it and in-flight requests finish.
CMD ["sh", "-c", "cms migrate && exec cms serve"]
