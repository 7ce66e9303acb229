#!/usr/bin/env bash
# Build the collection tarball, install it into an empty collections path and check that what users run
# from it resolves: every module's documentation, the filter, and the playbooks by their FQCN.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/.venv/bin"
work=$(mktemp -d "${TMPDIR:-/tmp}/innovaphone-pbx-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$bin/ansible-galaxy" collection build --output-path "$work" "$root" >/dev/null
tarball=$(ls "$work"/innovaphone-pbx-*.tar.gz)
if tar tzf "$tarball" | grep -E '^(tests|extensions/molecule|collections|\.ansible)/'; then
    echo "package_check: development files in $(basename "$tarball")" >&2
    exit 1
fi
export ANSIBLE_COLLECTIONS_PATH="$work/installed" ANSIBLE_HOME="$work/home"
"$bin/ansible-galaxy" collection install --offline -p "$work/installed" "$tarball" >/dev/null
modules=$("$bin/ansible-doc" -l innovaphone.pbx | awk '{print $1}')
[ "$(echo "$modules" | wc -w)" -ge 12 ] || { echo "package_check: modules missing: $modules" >&2; exit 1; }
for module in $modules; do
    "$bin/ansible-doc" "$module" >/dev/null
done
"$bin/ansible-doc" -t filter innovaphone.pbx.hotdesk_function_key >/dev/null
# The event source and its rulebooks ship where ansible-rulebook looks for them.
for file in plugins/event_source/pbx_events.py rulebooks/hotdesking_remediate.yml; do
    [ -f "$work/installed/ansible_collections/innovaphone/pbx/extensions/eda/$file" ] ||
        { echo "package_check: extensions/eda/$file missing" >&2; exit 1; }
done
for playbook in hotdesking compliance verify probe logout; do
    "$bin/ansible-playbook" --syntax-check -i localhost, "innovaphone.pbx.$playbook" >/dev/null
done
echo "package_check: $(basename "$tarball") ok: $(echo "$modules" | wc -w) modules, filter, 5 playbooks"
