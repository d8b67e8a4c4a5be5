# CivicStat: `make run` serves the demo city, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CITY ?= data/demo
DEMO_ROWS ?= 1000000
STAMP := $(VENV)/.installed

.PHONY: run test bench check demo publish clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e ".[test]"
	touch $(STAMP)

# Rebuilt when the generator or the snapshot format changes (a few seconds at 1M requests).
$(CITY)/build/public.duckdb: civicstat/demo/generator.py civicstat/publish/build.py civicstat/publish/staff_tables.py civicstat/core/privacy.py civicstat/core/definitions.py civicstat/serve/snapshots.py | $(STAMP)
	$(BIN)/civicstat demo $(CITY) --rows $(DEMO_ROWS)

demo: $(STAMP)
	$(BIN)/civicstat demo $(CITY) --rows $(DEMO_ROWS)

run: $(STAMP) $(CITY)/build/public.duckdb
	CIVICSTAT_CITY=$(CITY) $(BIN)/streamlit run app.py

test: $(STAMP)
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/sqlfluff lint queries

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) $(CITY)/build $(CITY)/store.duckdb
