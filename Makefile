# Two commands: `make run` (set up, migrate, seed, serve) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
PYTEST_ARGS ?=
export FLASK_APP := wsgi

.PHONY: run test test-all docs venv db clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("需要 Python 3.11 或更高版本" if sys.version_info < (3, 11) else 0)'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

instance/config.py:
	@mkdir -p instance
	@$(PYTHON) -c 'import secrets; print("SECRET_KEY = %r" % secrets.token_hex(32))' > $@.tmp
	@chmod 600 $@.tmp && mv $@.tmp $@
	@echo "已生成 instance/config.py（SECRET_KEY）"

db: venv instance/config.py
	$(BIN)/flask db upgrade
	$(BIN)/flask seed

run: db
	$(BIN)/flask users demo
	$(BIN)/flask demo-data --projects 300 --if-empty
	PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-all: venv
	$(BIN)/python -m pytest -m "" $(PYTEST_ARGS)

# The guide's screenshots (static/help/), taken by the browser test on the demo data; commit them.
docs: venv
	GUIDE_IMAGES=static/help $(BIN)/python -m pytest -m slow -q tests/browser/test_guide_pictures.py

clean:
	rm -rf $(VENV) .pytest_cache
