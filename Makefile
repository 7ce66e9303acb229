# innovaphone.pbx: developer entry points. Each target creates .venv/ and installs what it needs.
# `make test` is what CI runs (.ci/run); `make demo` is the main job, against pbxsim.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
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

.PHONY: venv test test-unit test-pbxsim test-integration sanity lint molecule demo bench clean

$(STAMP): requirements.txt test-requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r test-requirements.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

venv: $(STAMP) $(COLLECTION_LINK)

test: test-unit test-pbxsim test-integration sanity lint molecule

test-unit: venv
	$(BIN)/pytest -q --ansible-unit-inject-only tests/unit

# pytest-ansible would link the tree into ./collections/; the simulator tests need no Ansible.
test-pbxsim: venv
	$(BIN)/pytest -q -p no:pytest-ansible tests/pbxsim/tests

test-integration: venv
	$(BIN)/pytest -q tests/integration

sanity: venv
	tests/tools/sanity.sh

lint: venv
	$(BIN)/antsibull-changelog lint
	$(BIN)/ansible-lint --profile production

# molecule runs ansible-playbook, ansible-config and ansible-inventory by name: the venv's bin goes first on PATH.
molecule: venv
	PATH="$(BIN):$$PATH" $(BIN)/molecule test --all

demo: venv
	$(BIN)/python tests/tools/demo.py

bench: venv
	PYTHONPATH=tests $(BIN)/python -m pbxsim.bench

clean:
	rm -rf .build .pytest_cache tests/output
