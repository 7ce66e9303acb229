# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""galaxy-importer, the importer of Galaxy and Automation Hub, on the built tarball: no error, no warning."""

import json
import pathlib
import re

import yaml

from conftest import BIN, REPO, run, tool_env

CONFIG = pathlib.Path(__file__).with_name("galaxy-importer.cfg")


def test_galaxy_importer_accepts_the_tarball_without_a_warning(tarball, tmp_path):
    # As on Galaxy: the collection is installed nowhere the importer or its ansible-lint could find it.
    home = tmp_path / "home"
    home.mkdir()
    env = tool_env(GALAXY_IMPORTER_CONFIG=str(CONFIG), GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=str(tmp_path / "tmp"),
                   GALAXY_IMPORTER_TMP_ROOT_DIR=str(tmp_path), ANSIBLE_HOME=str(home),
                   ANSIBLE_COLLECTIONS_PATH=str(home / "collections"))
    listed = run([BIN / "ansible-galaxy", "collection", "list", "innovaphone.pbx"], env=env)
    assert "innovaphone.pbx" not in listed.stdout, listed.stdout
    completed = run([BIN / "python", "-m", "galaxy_importer.main", tarball], cwd=tmp_path, env=env)
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-6000:]
    assert "Importer processing completed successfully" in log, log[-6000:]
    assert "Linting collection via ansible-lint" in log, "ansible-lint did not run"
    problems = [line for line in log.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line)]
    assert problems == [], "\n".join(problems)

    result = json.loads((tmp_path / "importer_result.json").read_text())
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    assert result["requires_ansible"] == runtime["requires_ansible"]
    assert result["metadata"]["namespace"] == "innovaphone" and result["metadata"]["name"] == "pbx"
    modules = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
    loaded = {(item["content_type"], item["name"]) for item in result["contents"]}
    assert {("module", name) for name in modules} <= loaded
    assert ("role", "hotdesking") in loaded
    assert {("playbook", path.name) for path in (REPO / "playbooks").glob("*.yml")} <= loaded
    # ansible-doc answered for every module: the hub shows the options from these.
    docs = {item["content_name"]: item for item in result["docs_blob"]["contents"]
            if item["content_type"] == "module"}
    assert sorted(docs) == modules
    assert all(docs[name]["doc_strings"]["doc"]["options"] for name in modules)
    assert result["docs_blob"]["collection_readme"]["html"]
