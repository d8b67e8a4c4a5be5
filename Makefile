# CivicStat: `make run` serves the demo city, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CITY ?= data/demo
DEMO_ROWS ?= 1000000
STAMP := $(VENV)/.installed

.PHONY: run serve test bench check demo publish clean fonts nginx

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e ".[test]"
	touch $(STAMP)

# Rebuilt when the generator, the snapshot format or a publish-time model (queries/snapshot)
# changes (a few seconds at 1M requests).
$(CITY)/build/public.duckdb: civicstat/demo/generator.py civicstat/publish/build.py civicstat/publish/models.py $(shell find queries/snapshot -name '*.sql') civicstat/core/privacy.py civicstat/core/definitions.py civicstat/serve/snapshots.py | $(STAMP)
	$(BIN)/civicstat demo $(CITY) --rows $(DEMO_ROWS)

demo: $(STAMP)
	$(BIN)/civicstat demo $(CITY) --rows $(DEMO_ROWS)

# The PDF brief's fonts (any script): Debian's fonts-dejavu-core and fonts-droid-fallback.
FONT_FILES := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
fonts:
	@for f in $(FONT_FILES); do [ -f $$f ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			(apt-get install -y -qq --no-install-recommends fonts-dejavu-core fonts-droid-fallback >/dev/null \
			 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-dejavu-core fonts-droid-fallback >/dev/null)); \
		else \
			echo "note: the PDF brief prints only Western European letters until fonts-dejavu-core and fonts-droid-fallback are installed"; \
		fi; \
	fi

run: $(STAMP) $(CITY)/build/public.duckdb fonts
	CIVICSTAT_CITY=$(CITY) $(BIN)/streamlit run app.py

# `make serve WORKERS=N PORT=P`: nginx (deploy/nginx/) in front of N app processes on one port,
# serving CIVICSTAT_CITY (default: the demo city, built as for `make run`). Ctrl-C stops them all.
WORKERS ?= 2
PORT ?= 8080
SERVE_CITY := $(or $(CIVICSTAT_CITY),$(CITY))
NGINX_PACKAGES := nginx-light libnginx-mod-http-brotli-filter
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			export DEBIAN_FRONTEND=noninteractive; \
			(apt-get install -y -qq --no-install-recommends $(NGINX_PACKAGES) >/dev/null \
			 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends $(NGINX_PACKAGES) >/dev/null)); \
		else \
			echo "make serve needs nginx: sudo apt-get install $(NGINX_PACKAGES) (Debian, Ubuntu), or your system's nginx package"; \
			exit 1; \
		fi; \
	fi

serve: $(STAMP) fonts nginx $(if $(filter $(CITY),$(SERVE_CITY)),$(CITY)/build/public.duckdb)
	$(BIN)/civicstat serve $(SERVE_CITY) --workers $(WORKERS) --port $(PORT)

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
