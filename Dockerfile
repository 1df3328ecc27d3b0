# syntax=docker/dockerfile:1
# The Taskwire image: one process serving HTTP and WebSockets on $PORT (8000).
#   docker build -t taskwire .
#   docker run -p 8000:8000 -v taskwire-data:/data taskwire
# docker-compose.yml runs two of these behind nginx on MongoDB and Redis.

# ---- build: the dependencies, resolved from pyproject.toml into a virtualenv ----------
FROM python:3.13-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Only pyproject.toml and an empty package: this layer, the slow one, is rebuilt when the
# dependencies change, not on every change to the code.
COPY pyproject.toml ./
RUN mkdir app && touch app/__init__.py \
 && pip install . \
 && pip uninstall --yes taskwire

# ---- runtime: the virtualenv and the code, run as an unprivileged user ---------------
FROM python:3.13-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000 \
    TASKWIRE_DATA_DIR=/data
# libmagic reads what an uploaded attachment really is (python-magic).
RUN apt-get update -qq \
 && apt-get install -y --no-install-recommends libmagic1 \
 && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid: Kubernetes' runAsNonRoot can only verify a number.
RUN groupadd --system --gid 10001 taskwire \
 && useradd --system --uid 10001 --gid taskwire --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin taskwire \
 && mkdir /data && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
# The code runs from /app, not from site-packages: the app finds static/, templates/ and
# hypercorn.toml beside its package. Root owns it, so the server cannot rewrite its code.
WORKDIR /app
COPY pyproject.toml hypercorn.toml ./
COPY templates ./templates
COPY static ./static
COPY app ./app
USER 10001:10001
# The SQLite file and, when TASKWIRE_SECRET_KEY is unset, the generated key live here.
VOLUME ["/data"]
EXPOSE 8000
# No curl in slim images: Python's urllib is the probe. urlopen raises on errors and on
# any non-2xx answer, which makes the exit status non-zero.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=3)"]
CMD ["python", "-m", "app", "serve"]
