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

.PHONY: venv test test-unit test-pbxsim test-integration test-eda eda-venv java test-matrix test-oldest test-ecosystem sanity sanity-all \
	lint docs-lint docs chromium molecule molecule-oldest demo bench bench-smoke bench-pbxsim clean package

# $(call make-venv,DIR,PYTHON,REQUIREMENT ARGUMENTS): a venv with the runtime deps and those requirements.
define make-venv
	$(2) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip
	$(1)/bin/python -m pip install --quiet -r requirements.txt $(3)
	touch $(1)/.installed
endef

$(STAMP): requirements.txt $(REQUIREMENTS)
	$(call make-venv,$(VENV),$(PYTHON),-r $(REQUIREMENTS))

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

venv: $(STAMP) $(COLLECTION_LINK)

# One suite after the other: two at a time on the 2 cores made the integration suites four times slower
# (16 instead of 4 minutes each), more than the time the overlap saved.
test: test-unit test-pbxsim test-integration test-eda test-matrix test-oldest sanity-all lint docs-lint molecule \
	molecule-oldest package test-ecosystem bench-smoke

# Only the unit tests use pytest-ansible (to import the collection); elsewhere it would link the tree into
# ./collections/, a race between xdist workers. The integration tests run ansible-playbook with the tree's
# .build/collections, two at a time (one pbxsim per worker).
test-unit: venv
	$(BIN)/pytest -q --ansible-unit-inject-only tests/unit

test-pbxsim: venv
	$(BIN)/pytest -q -p no:pytest-ansible tests/pbxsim/tests

INTEGRATION_TESTS ?= tests/integration
# On the other ansible-core versions: what depends on ansible-core (every module's target, in process and as module
# processes, the role and its playbooks, the wire names); the reliability suites (faults, interrupted and concurrent
# runs, bad inventories, transport, secrets) exercise the collection's own code and run once, on the default core.
MATRIX_INTEGRATION_TESTS := tests/integration/test_targets.py tests/integration/test_devices_targets.py \
	tests/integration/test_hotdesking_role.py tests/integration/test_wire_names.py tests/integration/test_logout.py \
	tests/integration/test_resilience.py tests/integration/test_secrets.py tests/integration/test_tls.py

test-integration: venv
	$(BIN)/pytest -q -p no:pytest-ansible -n 2 $(INTEGRATION_TESTS)

# The ansible-core matrix: every minor version from the oldest that meta/runtime.yml admits (requires_ansible) to
# the newest, each in .venv-<minor>/ on a controller Python it supports (3.11 up to 2.19, 3.12 from 2.20; pyenv's,
# or name them with PYTHON_3.11=... PYTHON_3.12=...). 2.19 is .venv/ itself, where everything else runs. A venv is
# built once (.venv-<minor>/.installed) and rebuilt only when its requirements change. The oldest minor gets the
# oldest release itself (ansible-core==2.16.0), the others their newest patch release.
OLDEST_CORE := $(shell sed -n 's/^requires_ansible: *">=\([0-9.]*\)".*/\1/p' meta/runtime.yml)
OLDEST_MINOR := $(basename $(OLDEST_CORE))
NEWEST_MINOR := 2.21
MATRIX_MINORS := 2.16 2.17 2.18 2.20 2.21
SANITY_MINORS := 2.16 2.18 2.21
PYTHON_3.11 ?= PYENV_VERSION=3.11 python3.11
PYTHON_3.12 ?= PYENV_VERSION=3.12 python3.12
core-python-version = $(if $(filter 2.16 2.17 2.18 2.19,$(1)),3.11,3.12)
core-requirement = ansible-core==$(if $(filter $(OLDEST_MINOR),$(1)),$(OLDEST_CORE),$(1).*)

.venv-%/.installed: meta/runtime.yml requirements.txt test-requirements-core.txt
	@test -n "$(OLDEST_CORE)" || { echo "no requires_ansible version in meta/runtime.yml" >&2; exit 1; }
	rm -rf .venv-$*
	$(call make-venv,.venv-$*,$(PYTHON_$(call core-python-version,$*)),-r test-requirements-core.txt \
		"$(call core-requirement,$*)")

# On one ansible-core: the unit tests (they pin what the in-process path needs of the core), and on the oldest and the
# newest also the integration tests that depend on ansible-core (MATRIX_INTEGRATION_TESTS).
# Kept after the run (make deletes what a chain of pattern rules made).
.PRECIOUS: .venv-%/.installed

test-core-%: .venv-%/.installed $(COLLECTION_LINK)
	.venv-$*/bin/python -c 'import ansible.release as r, sys; sys.exit(not r.__version__.startswith("$*.") \
		and "ansible-core %s in .venv-$*" % r.__version__)'
	.venv-$*/bin/pytest -q --ansible-unit-inject-only tests/unit
	$(if $(filter $*,$(OLDEST_MINOR) $(NEWEST_MINOR)),.venv-$*/bin/pytest -q -p no:pytest-ansible -n 2 \
		$(MATRIX_INTEGRATION_TESTS))

test-matrix: $(addprefix test-core-,$(MATRIX_MINORS))

# The oldest ansible-core alone (the release requires_ansible names).
test-oldest: test-core-$(OLDEST_MINOR)

package: venv
	tests/tools/package_check.sh

# Event-Driven Ansible: the event source against pbxsim, and ansible-rulebook (from PyPI, in its own venv
# .venv-eda/, since it brings its own dependencies) running extensions/eda/rulebooks/hotdesking_remediate.yml.
.venv-eda/.installed: tests/eda/eda-requirements.txt
	$(PYTHON) -m venv .venv-eda
	.venv-eda/bin/python -m pip install --quiet --upgrade pip
	.venv-eda/bin/python -m pip install --quiet -r tests/eda/eda-requirements.txt
	touch $@

eda-venv: .venv-eda/.installed

# Debian's Java 17 runtime for ansible-rulebook, installed when missing (apt-get, as root).
java:
	tests/tools/install_java.sh

test-eda: venv eda-venv java
	EDA_VENV=$(CURDIR)/.venv-eda $(BIN)/pytest -q -p no:pytest-ansible tests/eda

# Debian's Chromium and ChromeDriver for the browser tests, installed when missing (apt-get, as root).
chromium:
	tests/tools/install_chromium.sh

# The docs site: antsibull-docs + Sphinx into .build/docs/html (open .build/docs/html/index.html).
docs: venv
	tests/tools/docs_build.sh

docs-lint: venv
	PATH="$(BIN):$$PATH" $(BIN)/antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all \
		--disallow-unknown-collection-refs --check-extra-docs-refs .

# What users' tools make of the collection: galaxy-importer, ansible-builder, ansible-runner (AWX),
# ansible-navigator, the docs site and the compliance summary in Chromium. Screenshots: tests/output/ecosystem/.
test-ecosystem: venv chromium docs
	$(BIN)/pytest -q -p no:pytest-ansible -n 2 tests/ecosystem

sanity: venv
	tests/tools/sanity.sh

# ansible-test sanity of one ansible-core in its venv, on the Python of that venv (make sanity-2.16).
sanity-%: .venv-%/.installed
	SANITY_VENV=.venv-$* SANITY_PYTHON=$(call core-python-version,$*) PYENV_VERSION=$(call core-python-version,$*) \
		tests/tools/sanity.sh

# On the default core and on SANITY_MINORS, one after the other: ansible-test's venvs are shared (sanity.sh takes a
# lock), so they would only wait.
sanity-all: sanity $(addprefix sanity-,$(SANITY_MINORS))

# The changelog lint, a changelog entry for galaxy.yml's version (tests/tools/changelog_check.sh), ansible-lint.
lint: venv
	$(BIN)/antsibull-changelog lint
	tests/tools/changelog_check.sh
	PATH="$(BIN):$$PATH" $(BIN)/ansible-lint --profile production --offline

# molecule runs ansible-playbook, ansible-config and ansible-inventory by name: the venv's bin goes first on PATH.
molecule: venv
	PATH="$(BIN):$$PATH" $(BIN)/molecule test --all

# The scenario again with the oldest core's ansible-playbook and ansible-galaxy first on PATH (molecule itself runs
# from .venv/: it drives those programs by name).
molecule-oldest: venv .venv-$(OLDEST_MINOR)/.installed
	PATH="$(CURDIR)/.venv-$(OLDEST_MINOR)/bin:$(BIN):$$PATH" $(BIN)/molecule test --all

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
