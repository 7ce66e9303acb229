#!/usr/bin/env bash
# A changelog entry for every version (Automation Hub certification): each release in changelogs/changelog.yaml has
# changes, and the version of galaxy.yml has one too, released or not yet. A version not released yet is released
# here, by `antsibull-changelog release`, on a copy of the tree: the fragments must make a section for it in
# CHANGELOG.rst (as they will when the maintainers release it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.venv/bin"
version=$("$bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$root/galaxy.yml")
work=$(mktemp -d "${TMPDIR:-/tmp}/innovaphone-pbx-changelog.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$("$root/tests/tools/tree_copy.sh" "$work")
cd "$dest"
released=$("$bin/python" - "$version" <<'PY'
import sys
import yaml
releases = yaml.safe_load(open("changelogs/changelog.yaml"))["releases"] or {}
empty = [name for name, release in releases.items() if not release.get("changes")]
if empty:
    sys.exit("changelog_check: releases without changes in changelogs/changelog.yaml: %s" % ", ".join(empty))
print("yes" if sys.argv[1] in releases else "no")
PY
)
if [ "$released" = no ]; then
    PATH="$bin:$PATH" "$bin/antsibull-changelog" release --version "$version" >/dev/null 2>&1 \
        || { echo "changelog_check: antsibull-changelog release --version $version failed" >&2; exit 1; }
fi
"$bin/antsibull-changelog" generate >/dev/null
grep -qx "v$version" CHANGELOG.rst || { echo "changelog_check: no section v$version in CHANGELOG.rst" >&2; exit 1; }
echo "changelog_check: $version has a changelog entry ($([ "$released" = yes ] && echo released || echo from the fragments))"
