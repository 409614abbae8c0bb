"""A CI file as text and as a position-keeping YAML tree (ruamel.yaml round-trip mode).

Loading is bounded: files over :data:`MAX_BYTES` are refused, and a walk over the tree visits
at most :data:`MAX_NODES` nodes, so aliases that expand exponentially (a "YAML bomb") cost
nothing: ruamel keeps an alias as a reference to one node, and :func:`flatten` counts visits.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from layerwise.ci.model import CiError, Pos

MAX_BYTES = 1 << 20  # GitHub refuses larger workflow files long before this
MAX_NODES = 20_000


class YamlFile:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self._starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self._starts.append(i + 1)
        first = text.find("\n")
        self.newline = "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"
        self.data = None

    def load(self) -> CiError | None:
        """Parse the text; a located error when it is not YAML we can read."""
        if len(self.text.encode("utf-8", "surrogateescape")) > MAX_BYTES:
            return CiError(self.path, 1, 1, f"CI file larger than {MAX_BYTES >> 20} MiB: not analysed")
        from ruamel.yaml import YAML
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        yaml = YAML(typ="rt", pure=True)
        yaml.allow_duplicate_keys = True
        try:
            self.data = yaml.load(self.text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            what = (exc.problem or exc.context or "invalid YAML").strip()
            return CiError(self.path, line, col, f"invalid YAML: {what}")
        except (YAMLError, RecursionError, ValueError, TypeError) as exc:
            return CiError(self.path, 1, 1, f"invalid YAML: {type(exc).__name__}")
        except Exception:  # noqa: BLE001 - ruamel's round-trip parser asserts on some malformed text ('#\n> #')
            return CiError(self.path, 1, 1, "invalid YAML: the parser gave up on it")
        return None

    # -- positions ----------------------------------------------------------------------------

    def pos(self, line0: int, col0: int) -> Pos:
        """The place of ruamel's 0-based (line, column)."""
        line0 = min(max(line0, 0), len(self._starts) - 1)
        return Pos(line0 + 1, col0 + 1, self._starts[line0] + col0)

    def at_offset(self, offset: int) -> Pos:
        i = bisect.bisect_right(self._starts, offset) - 1
        return Pos(i + 1, offset - self._starts[i] + 1, offset)

    def key_pos(self, mapping, key) -> Pos | None:
        try:
            line, col = mapping.lc.key(key)
        except (AttributeError, KeyError, TypeError):
            return None
        return self.pos(line, col)

    def value_pos(self, mapping, key) -> Pos | None:
        try:
            line, col = mapping.lc.value(key)
        except (AttributeError, KeyError, TypeError):
            return None
        return self.pos(line, col)

    def item_pos(self, seq, index: int) -> Pos | None:
        try:
            line, col = seq.lc.item(index)
        except (AttributeError, KeyError, TypeError, IndexError):
            return None
        return self.pos(line, col)

    def line_end(self, offset: int) -> int:
        """The offset just after the line ending of the line holding ``offset``."""
        end = self.text.find("\n", offset)
        return len(self.text) if end < 0 else end + 1

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def find(self, needle: str, start: int) -> Pos | None:
        i = self.text.find(needle, start)
        return None if i < 0 else self.at_offset(i)


def is_map(node) -> bool:
    from ruamel.yaml.comments import CommentedMap

    return isinstance(node, (CommentedMap, dict))


def is_seq(node) -> bool:
    from ruamel.yaml.comments import CommentedSeq

    return isinstance(node, (CommentedSeq, list))


def flatten(node, budget: list[int] | None = None) -> Iterator[tuple[object, object, int]]:
    """The scalars of a (possibly nested) list, with their parent list and index; GitLab lets
    ``script:`` nest lists (through anchors). Visits at most :data:`MAX_NODES` nodes in all."""
    budget = budget if budget is not None else [MAX_NODES]
    if not is_seq(node):
        if budget[0] > 0:
            budget[0] -= 1
            yield node, None, -1
        return
    for i, item in enumerate(node):
        if budget[0] <= 0:
            return
        budget[0] -= 1
        if is_seq(item):
            yield from flatten(item, budget)
        else:
            yield item, node, i
