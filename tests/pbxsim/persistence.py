# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state file: the whole model as JSON, replaced atomically so a crash never leaves half a file."""

import json
import os
import tempfile

FORMAT = 1


def save(path, parts):
    """Write {name: JSON text} as one JSON object to a temporary file beside path, then rename it over path.

    The parts come encoded, so that a part can reuse encodings it keeps (model.Pbx.to_json).
    """
    directory = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix=".pbxsim-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write('{"format":%d,%s}' % (FORMAT, ",".join('"%s":%s' % item for item in parts.items())))
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
