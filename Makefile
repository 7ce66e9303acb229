# innovaphone.pbx: developer entry points. Each target creates .venv/ and installs what it needs.
# `make test` is what CI runs (.ci/run); `make demo` is the main job, against pbxsim.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
REQUIREMENTS ?= test-requirements.txt
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# The collection as Ansible finds it: a symlink under .build/collections (ANSIBLE_COLLECTIONS_PATH).
COLLECTIONS := $(CURDIR)/.build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/innovaphone/pbx
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
# Ansible's home (default ~/.ansible) is per work tree: molecule keeps its scenario state (pbxsim's pid file)
# in <home>/tmp/molecule.<hash of the tree's base name>.default and, like ansible-lint, installs the collection
# into <home>/collections, so two trees of the same name running at once would share pbxsim and the collection.
export ANSIBLE_HOME := $(CURDIR)/.build/ansible-home

.PHONY: venv test test-unit test-pbxsim test-integration test-matrix sanity lint molecule demo bench bench-smoke \
	bench-pbxsim clean package

$(STAMP): requirements.txt $(REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r $(REQUIREMENTS)
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

venv: $(STAMP) $(COLLECTION_LINK)

test: test-unit test-pbxsim test-integration test-matrix sanity lint molecule package bench-smoke

# Only the unit tests use pytest-ansible (to import the collection); elsewhere it would link the tree into
# ./collections/, a race between xdist workers. The integration tests run ansible-playbook with the tree's
# .build/collections, two at a time (one pbxsim per worker).
test-unit: venv
	$(BIN)/pytest -q --ansible-unit-inject-only tests/unit

test-pbxsim: venv
	$(BIN)/pytest -q -p no:pytest-ansible tests/pbxsim/tests

test-integration: venv
	$(BIN)/pytest -q -p no:pytest-ansible -n 2 tests/integration

# The unit and integration tests again, on ansible-core 2.21 in .venv-2.21/. It needs Python 3.12:
# PYENV_VERSION picks pyenv's; without pyenv, MATRIX_PYTHON names one.
MATRIX_PYTHON ?= PYENV_VERSION=3.12 python3.12
test-matrix:
	$(MAKE) --no-print-directory test-unit test-integration VENV=.venv-2.21 PYTHON="$(MATRIX_PYTHON)" \
		REQUIREMENTS=test-requirements-2.21.txt

package: venv
	tests/tools/package_check.sh

sanity: venv
	tests/tools/sanity.sh

lint: venv
	$(BIN)/antsibull-changelog lint
	PATH="$(BIN):$$PATH" $(BIN)/ansible-lint --profile production

# molecule runs ansible-playbook, ansible-config and ansible-inventory by name: the venv's bin goes first on PATH.
molecule: venv
	PATH="$(BIN):$$PATH" $(BIN)/molecule test --all

demo: venv
	$(BIN)/python tests/tools/demo.py

# The benchmark of issue 10 (never part of `make test`): the modules, the role on one and on many sites, the uri
# loop, the wire limit and Ansible's floor, in one process; regenerates docs/benchmarks.md and docs/benchmarks-*.png
# in about 45 minutes. BENCH_ARGS passes options, e.g. BENCH_ARGS="--only users --sizes 1000" or "--quick"
# (tests/benchmarks/bench.py --help).
bench: venv
	$(BIN)/python tests/benchmarks/bench.py $(BENCH_ARGS)

# The harness on a tiny workload (N=10, one run, no plots; report in .build/benchmarks/), so that it cannot rot.
bench-smoke: venv
	$(BIN)/python tests/benchmarks/bench.py --smoke

# pbxsim alone: SOAP requests/s, the bulk read of 5,000 users, single adds with --state.
bench-pbxsim: venv
	PYTHONPATH=tests $(BIN)/python -m pbxsim.bench

clean:
	rm -rf .build .pytest_cache tests/output
