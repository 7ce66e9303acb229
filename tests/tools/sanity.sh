#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection laid out as ansible_collections/innovaphone/pbx.
# The copy lives outside the git work tree so that ansible-test sees exactly the project's files.
# SANITY_VENV picks the venv whose ansible-test runs (default .venv, ansible-core 2.19; `make sanity-2.16`
# passes .venv-2.16), SANITY_PYTHON the Python version of the sanity tests (default 3.11).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv_bin="$root/${SANITY_VENV:-.venv}/bin"
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
# ansible-test keeps its sanity venvs in ~/.ansible/test/venv, for every tree of the user, and deletes one it
# finds half-made: two trees running sanity at once would break each other's venvs, so they take turns.
exec 9>"$cache/innovaphone-pbx-sanity.lock"
flock 9
# The get-pip.py of the pip version this ansible-test bootstraps its venvs with (23.1.2 for 2.16, 24.2 for 2.19,
# 25.2 for 2.21).
requirements_py=$(echo "$root/${SANITY_VENV:-.venv}"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$requirements_py")
[ -n "$pip_version" ] || { echo "sanity: no pip version in $requirements_py" >&2; exit 1; }
if [ ! -f "$cache/get_pip_${pip_version//./_}.py" ]; then
    cp "$root/tests/tools/get_pip_standin.py" "$cache/get_pip_${pip_version//./_}.py"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/innovaphone-pbx-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$("$root/tests/tools/tree_copy.sh" "$work")
cd "$dest"
# ansible-test skips its shell checks without the shellcheck program, so install it when we can.
command -v shellcheck >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -q shellcheck >/dev/null 2>&1; } || true
export PATH="$venv_bin:$PATH"
ansible-test sanity --venv --requirements --python "${SANITY_PYTHON:-3.11}" "$@"
