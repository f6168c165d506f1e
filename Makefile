# newsflow — the two commands are `make up` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser up test test-unit test-faults lint bench soak eval lock clean

# The virtual environment, from the hashed development lock (every file's sha256 checked);
# rebuilt when the lock changes. requirements.lock is the runtime subset (the image's).
$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

install: $(STAMP) browser

## Headless Chromium for the console's browser test, from Debian's packages: installed when
## /usr/bin/chromium is missing, apt-get exists and we are root; otherwise nothing (the
## test then skips, saying why).
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium and chromium-driver (apt-get)"; \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver) \
			|| echo "could not install chromium: the console's browser test will be skipped"; \
	fi

## Run the service: embedded PostgreSQL and Redis unless NEWSFLOW_DATABASE_URL / NEWSFLOW_REDIS_URL are set.
up: install
	$(BIN)/newsflow up

## Set up and run every test (unit, integration, faults).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: install
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

## Only the fault tests: they kill private Redis, PostgreSQL and worker processes.
test-faults: install
	$(BIN)/python -m pytest -m faults $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

## Speed: stage costs; API intake vs a bare FastAPI+LPUSH baseline (needs wrk); the
## pipeline end to end, latency by offered load, memory (one table, JSON, PNG); consumers;
## a source poll cycle (1,000 feeds x 50 items).
bench: install
	mkdir -p bench/results
	$(BIN)/python bench/stages.py
	if command -v wrk >/dev/null; then $(BIN)/python bench/intake.py --json bench/results/intake.json; else echo "wrk not installed (apt-get install wrk): intake bench skipped"; fi
	$(BIN)/python bench/run.py
	$(BIN)/python bench/consumers.py
	$(BIN)/python bench/duplicates.py
	$(BIN)/python bench/sources.py
	$(BIN)/python bench/capacity.py --json bench/results/capacity.json

## 30 minutes at half of the measured capacity: memory of every process, Redis and p99 flat.
soak: install
	$(BIN)/python bench/soak.py

## Quality on ../shared/eval: extraction vs plain trafilatura, entities vs the bare models.
eval: install
	$(BIN)/python bench/eval.py --json bench/results/eval.json
	$(BIN)/python bench/eval_ner.py --json bench/results/eval_ner.json

## Re-lock after a change to pyproject.toml's dependencies: the pins already locked stay,
## what is new is resolved; both files get every distribution's sha256, for any platform.
lock: install
	$(BIN)/uv pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 \
		--no-header -c requirements-dev.lock -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --universal --generate-hashes --python-version 3.11 \
		--no-header --extra dev --extra embedded -c requirements-dev.lock -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
