#!/usr/bin/env bash
# `make docs`: the docs site in .build/docs/html (DOCS_OUT overrides .build/docs). antsibull-docs writes the
# reference (modules, filter, role) from the collection's own documentation; Sphinx adds the Markdown pages of
# docs/ (myst-parser) and builds HTML with the Ansible theme. Warnings are errors.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$root/.build/collections}"
out="${DOCS_OUT:-$root/.build/docs}"
rm -rf "$out"
# antsibull-docs writes only into a folder that its owner alone may write to.
mkdir -p "$out"
mkdir -m 700 "$out/src" "$out/src/collection"
antsibull-docs collection --use-current --squash-hierarchy --dest-dir "$out/src/collection" innovaphone.pbx
cp "$root/docs/site/conf.py" "$root/docs/site/index.rst" "$root/docs/site/ansible-references.rst" "$out/src/"
for page in quickstart guide seed-steps wire-names security benchmarks eda; do
    cp "$root/docs/$page.md" "$out/src/$page.md"
done
cp "$root"/docs/benchmarks-*.png "$out/src/"  # the plots of benchmarks.md (make bench)
mkdir "$out/src/awx"
cp "$root/docs/awx/README.md" "$out/src/awx/README.md"
cp "$root/docs/site/awx-credential-types.md" "$out/src/awx/credential-types.md"
cp -r "$root/docs/awx/credential-types" "$out/src/awx/credential-types"  # the YAML the page above includes
sphinx-build -W --keep-going -q -b html -d "$out/doctrees" "$out/src" "$out/html"
echo "docs: $out/html/index.html"
