# syntax=docker/dockerfile:1
# Three stages: GraphiQL's pinned browser files from npm, a wheel of the CMS with those files
# inside, and a slim runtime with neither build tools nor Node.js.

FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
    && mkdir /vendor \
    && cp node_modules/react/umd/react.production.min.js \
          node_modules/react-dom/umd/react-dom.production.min.js \
          node_modules/graphiql/graphiql.min.js \
          node_modules/graphiql/graphiql.min.css /vendor/

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY cms ./cms
COPY --from=assets /vendor ./cms/web/static/vendor
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres,redis]"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 cms
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "cms[postgres,redis]" \
    && rm -rf /wheels
USER cms
WORKDIR /home/cms
ENV CMS_HOST=0.0.0.0 \
    CMS_PORT=8000 \
    CMS_DATABASE_URL=sqlite:///home/cms/cms.sqlite3 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# Migrations run on every start; they are idempotent, and a new image may bring new ones.
CMD ["sh", "-c", "cms migrate && exec cms serve"]
