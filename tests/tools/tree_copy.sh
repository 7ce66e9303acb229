#!/usr/bin/env bash
# tree_copy.sh DIR: copy the project's files (git's, tracked or untracked but not ignored) into
# DIR/ansible_collections/innovaphone/pbx, outside the git work tree, so that a tool (ansible-test,
# antsibull-changelog) sees exactly the collection laid out as Ansible finds it. Prints that directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$1/ansible_collections/innovaphone/pbx"
mkdir -p "$dest"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
done | xargs -0 -r cp --parents -t "$dest")
echo "$dest"
