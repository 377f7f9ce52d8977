# Two commands for a fresh machine: `make demo` (local run of the sample input) and `make test`.
# Python 3.12 = the Lambda runtime (sam build needs it on PATH): a pyenv build, else python3.12.
PYTHON ?= $(shell for p in $$HOME/.pyenv/versions/3.12*/bin/python3.12 $$(command -v python3.12); do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && echo "$$p" && break; done)
VENV := .venv
SAM_VENV := .venv-sam
GATES_VENV := .venv-gates
# The demo and the critical-path benchmark run on a private MariaDB they start and remove (needs
# mariadb-server's binaries); or a URL
DEMO_MYSQL ?= throwaway

.PHONY: setup setup-sam setup-gates demo test typecheck gates sam-build bench-critical-path bench-cold-start bench-size clean

# The demo needs only requirements/demo.txt; the tests add requirements/dev.txt on top.
$(VENV)/.demo-installed: requirements/runtime.txt requirements/demo.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo 'Python 3.12 not found: install it (pyenv install 3.12) or pass PYTHON=/path/to/python3.12'; exit 1; }
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check --no-compile -r requirements/demo.txt
	@$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

$(VENV)/.installed: $(VENV)/.demo-installed requirements/dev.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements/dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	@test -n "$(PYTHON)" || { echo 'Python 3.12 not found: install it (pyenv install 3.12) or pass PYTHON=/path/to/python3.12'; exit 1; }
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q -r requirements/sam.txt
	touch $@

$(GATES_VENV)/.installed: requirements/gates.txt
	@test -n "$(PYTHON)" || { echo 'Python 3.12 not found: install it (pyenv install 3.12) or pass PYTHON=/path/to/python3.12'; exit 1; }
	$(PYTHON) -m venv $(GATES_VENV)
	$(GATES_VENV)/bin/pip install -q --upgrade pip
	$(GATES_VENV)/bin/pip install -q -r requirements/gates.txt
	touch $@

setup: $(VENV)/.installed

setup-sam: $(SAM_VENV)/.installed

setup-gates: $(GATES_VENV)/.installed

gates: setup-gates
	scripts/gates.sh

demo: $(VENV)/.demo-installed
	@$(VENV)/bin/analytics-provisioner local run --input events/input-minimal.json --out out/demo --mysql $(DEMO_MYSQL)

# mypy with pyproject's [tool.mypy]: the library and functions/; first, as it fails in seconds
typecheck: setup
	$(VENV)/bin/mypy

test: setup setup-sam setup-gates
	$(MAKE) typecheck
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile
	scripts/gates.sh
	$(MAKE) sam-build

sam-build: setup-sam
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml --build-dir .aws-sam/build > .aws-sam-build.log 2>&1 \
		|| (tail -40 .aws-sam-build.log; exit 1)
	@# Lambda's file system is read-only: ship bytecode it can use (checked-hash: valid whatever the zip dates)
	$(PYTHON) -m compileall -q -f -j 0 --invalidation-mode checked-hash .aws-sam/build
	@echo "sam build: OK"

bench-critical-path: setup
	$(VENV)/bin/python benchmarks/critical_path.py --mysql $(DEMO_MYSQL)

bench-cold-start: setup sam-build
	$(VENV)/bin/python benchmarks/cold_start.py

bench-size: setup sam-build
	$(VENV)/bin/python benchmarks/package_size.py

clean:
	rm -rf $(VENV) $(SAM_VENV) $(GATES_VENV) .aws-sam out
