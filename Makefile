# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-cadence test lint bench soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

demo-cadence: $(STAMP)
	$(BIN)/python examples/demo_cadence.py

test: $(STAMP)
	$(BIN)/pytest -q -n 3 --dist worksteal --durations=15

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples

bench: $(STAMP)
	$(BIN)/python bench/launch.py
	$(BIN)/python bench/first_text.py
	$(BIN)/python bench/dispatch.py

soak: $(STAMP)  # 30 minutes; bench/soak.py --minutes N for a shorter one
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) psms.db psms.db-wal psms.db-shm demo-out demo-cadence-out
