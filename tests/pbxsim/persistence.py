# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state file: the whole model as JSON, replaced atomically so a crash never leaves half a file."""

import json
import os
import tempfile

FORMAT = 1


def save(path, state):
    """Write state to a temporary file beside path, then rename it over path."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix=".pbxsim-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(dict(state, format=FORMAT), stream, separators=(",", ":"))
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def load(path):
    """The saved state, or None when there is no file yet."""
    try:
        with open(path, encoding="utf-8") as stream:
            state = json.load(stream)
    except FileNotFoundError:
        return None
    if state.get("format") != FORMAT:
        raise ValueError("%s: unknown state format %r" % (path, state.get("format")))
    return state
