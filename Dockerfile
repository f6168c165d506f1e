# One image for the API, the worker and the migrate step.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY api ./api
COPY worker ./worker
COPY newsflow ./newsflow
COPY cli ./cli
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && useradd --create-home --uid 10001 newsflow
USER newsflow
EXPOSE 8000
CMD ["newsflow", "api"]
