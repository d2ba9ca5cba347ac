# commune-radio. On a fresh Debian 12 machine as root: `make demo` and `make test` install what they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RADIO := $(VENV)/bin/radio
SYSTEM_TOOLS := ffmpeg ffprobe espeak-ng
APT_PACKAGES := ffmpeg espeak-ng
DEMO_DAYS ?= 7
# The demo speaks offline by default, so it runs the same everywhere; `make demo DEMO_ENGINE=auto` uses
# the neural edge-tts voices when the service is reachable (radio.toml's engine applies to `radio build`).
DEMO_ENGINE ?= espeak

.PHONY: demo test lint bench templates system-deps venv clean

# System tools through apt, only when one is missing (so a second run does nothing).
system-deps:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages for:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to apt-get install $(APT_PACKAGES)" >&2; exit 2; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); \
	fi

# The virtualenv is rebuilt only when pyproject.toml changes (the stamp is newer otherwise).
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

demo: system-deps venv
	$(RADIO) build --engine $(DEMO_ENGINE)
	$(RADIO) approve --all --by demo
	$(RADIO) schedule --from today --days $(DEMO_DAYS)

lint: venv
	$(VENV)/bin/ruff check pipeline tests bench audio_templates
	$(VENV)/bin/ruff format --check pipeline tests bench audio_templates
	$(VENV)/bin/mypy --strict pipeline

test: system-deps venv lint
	$(VENV)/bin/pytest -q

bench: system-deps venv
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Regenerate the synthesised jingles and beds (they are committed; this is how they were made).
templates: system-deps venv
	$(PY) audio_templates/generate.py

clean:
	rm -rf build
