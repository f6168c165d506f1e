# syntax=docker/dockerfile:1
# One image for the API, the worker and the migrate step, built in two stages: the build
# stage installs the hashed runtime lock and newsflow into a virtual environment; the
# image is that environment on a slim Python, run as an unprivileged user. No compiler,
# no pip cache, and none of the development tools (tests, linters, embedded servers:
# requirements-dev.lock) are in it.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/newsflow
ENV PATH=/opt/newsflow/bin:$PATH
COPY requirements.lock /tmp/requirements.lock
# every file checked against the lock's sha256 (the spaCy model repack too)
RUN pip install --require-hashes --no-deps -r /tmp/requirements.lock
WORKDIR /src
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY api ./api
COPY worker ./worker
COPY newsflow ./newsflow
COPY cli ./cli
RUN pip install --no-deps --no-build-isolation . && pip uninstall --yes pip

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/newsflow/bin:$PATH
RUN useradd --create-home --uid 10001 --user-group newsflow
COPY --from=build /opt/newsflow /opt/newsflow
COPY --from=build /src/LICENSE /src/NOTICE /usr/share/doc/newsflow/
USER 10001:10001
WORKDIR /home/newsflow
EXPOSE 8000
# each compose service has a healthcheck of its own (API: /healthz; worker: celery ping)
CMD ["newsflow", "api"]
