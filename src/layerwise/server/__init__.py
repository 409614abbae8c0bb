"""``layerwise server``: a Language Server Protocol server (pygls, over stdio).

For Dockerfiles (``Dockerfile``, ``*.Dockerfile``, ``Dockerfile.*``, ``Containerfile``) it
publishes ``check``'s findings as diagnostics (same ids, severities, ``[tool.layerwise]`` and
inline ignores; a link to the rule's doc), offers each finding's fix as a quick fix (safe ones
preferred, unsafe ones marked), "fix all", and "ignore this finding" (an inline directive);
code lenses say what ``explain`` predicts for the next build of each instruction against the
last commit (``cached``, ``rebuilds: app.py modified``), for the text in the editor, saved or
not; hover shows the instruction as BuildKit reads it, for a COPY/ADD the number and size of
the files it copies (of those Docker sends, after ``.dockerignore``), and the full cause. For
``.dockerignore``, requirements files, ``pyproject.toml``, lock files and CI files it
publishes the findings that land in them when they are saved.

Keystrokes never wait for the build context: a change is checked first without the context
(the Dockerfile's own rules, from the unsaved text), then with it in the background, then
predicted in the background. The walk of the context is kept until a file changes
(:mod:`layerwise.server.contexts`: the client's file watchers, saves, or stat checks when the
client cannot watch), so a pause in typing costs no walk. One prediction runs at a time per
document; a newer change drops the older results and the asks that did not start. While the
prediction of a new text runs, the lenses of the last one stay on the instructions still
written the same (moved to their new lines; an edited instruction loses its lens), so they do
not blink away at each keystroke; its result comes with ``workspace/codeLens/refresh``.
A failure in one request is logged and answered empty; the server keeps running.
"""

from layerwise.server.app import build_server, main

__all__ = ["build_server", "main"]
