"""Whether a file that is named like a secret holds one.

The context report finds secrets by name (`.npmrc`, `*.pem`, `.pypirc`...). A name is a guess,
and some of those names are as often harmless: an `.npmrc` with only `shamefully-hoist=true`,
a `.pem` CA bundle of public certificates, a `.pypirc` listing repositories with their tokens
passed in the environment. For those names the file's text is read (inside the project, a
bounded size) and the name is kept only with evidence: the report (and LW305, which reads it)
lists what holds a secret. Nothing of the text is ever shown.
"""

from __future__ import annotations

import posixpath
import re

from layerwise import safefs

_LIMIT = 1024 * 1024  # larger files keep the verdict of their name

# A value that is not a reference to the environment (`${NPM_TOKEN}`, `$TOKEN`).
_VALUE = r"[ \t]*[=:][ \t]*(?![\"']?\$)[^\s]"
# (pattern, flags): compiled on first use by re's cache, not at every check's start-up
_NPMRC = (r"^\s*(?:[^#;\s]*:)?_(?:authToken|auth|password)" + _VALUE, re.M | re.I)
_PYPIRC = (r"^\s*password" + _VALUE, re.M | re.I)
_NETRC = (r"(?:^|\s)password\s+(?!\$)\S", re.I)
_PRIVATE_PEM = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM = r"-----BEGIN [A-Z0-9 ]+-----"


def _text(root, rel: str) -> str | None:
    try:
        return safefs.read_bytes(rel, root=root, limit=_LIMIT).decode("utf-8", "replace")
    except (safefs.FileAccessError, OSError):
        return None


def holds_secret(root, rel: str) -> bool:
    """Whether the file ``rel`` (relative to the context ``root``), named like a secret, holds
    one. Only names whose text can say otherwise are read; for the others, for files that
    cannot be read and for large ones, the name decides (True)."""
    name = posixpath.basename(rel).lower()
    if root is None:
        return True
    if name == ".npmrc":
        pattern = _NPMRC
    elif name == ".pypirc":
        pattern = _PYPIRC
    elif name in (".netrc", "_netrc"):
        pattern = _NETRC
    elif name.endswith((".pem", ".key", ".crt")):
        pattern = None
    else:
        return True
    text = _text(root, rel)
    if text is None:
        return True
    if pattern is not None:
        return bool(re.search(pattern[0], text, pattern[1]))
    # PEM text: a private key block is a secret, certificates and public keys are not;
    # anything else (DER bytes, another format) keeps the verdict of its name
    return bool(re.search(_PRIVATE_PEM, text)) or not re.search(_PEM, text)
