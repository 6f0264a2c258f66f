# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app portal
PORT   ?= 5000

.PHONY: run test install translations static lint bench readme clean

# The email worker runs beside the server, so a registration's confirmation appears in
# instance/mail/ within seconds; it stops with the server (Ctrl-C).
# PORT moves the server (macOS keeps 5000 for AirPlay); links in emails follow it.
run: export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(FLASK) db upgrade
	$(FLASK) demo load --upcoming --with-registrations
	@$(FLASK) demo organiser
	$(FLASK) outbox send --loop --interval 3 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/pytest

install: $(VENV)/.installed translations static

# Fingerprinted, gzip- and brotli-compressed copies of portal/static/ (build output, not in git).
static: $(VENV)/.installed
	$(FLASK) digest compile >/dev/null

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# Compiled catalogues are build output: made from the .po files on every install.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d portal/translations 2>/dev/null

# Re-extract strings after changing templates or code, then translate the .po file.
extract: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg --sort-by-file --add-comments=Translators: \
		-k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
		--project=webinar-portal -o portal/translations/messages.pot .
	$(BIN)/pybabel -q update -i portal/translations/messages.pot -d portal/translations --ignore-obsolete

lint: $(VENV)/.installed
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/registration_throughput.py

# README.md is assembled from one part per area; edit the parts, then run this.
README_PARTS := 00-intro 10-configuration 20-commands demo design public api registration performance audiences organiser \
	attendance feedback certificates translations 80-development browser-tests 90-deployment
readme:
	for part in $(README_PARTS); do cat docs/readme/$$part.md; echo; done > README.md

clean:
	-$(FLASK) digest clean >/dev/null 2>&1
	rm -rf $(VENV) .pytest_cache
