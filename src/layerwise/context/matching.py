"""How the snapshot walk applies the ignore file: fsutil's ``MatchesUsingParentResults``,
made cheap per entry.

patternmatcher gives every folder a ``MatchInfo`` (which patterns matched it); a child is
then matched with its parent's results: a pattern that matched the parent counts as matched,
the others are tried on the child's path, in order, last match wins, and a pattern is only
tried when it could change the decision. :class:`WalkMatcher` computes exactly that, with:

* a sparse MatchInfo: the tuple of the indices of the patterns that matched (``()`` when
  none did; ``None`` stands for the zero value at the context root);
* per (parent MatchInfo, depth), the patterns that can matter for a folder's children, and
  one combined regex telling in a single call that none of them matches (the usual case);
* for big ignore files (over :data:`INDEX_MIN` patterns), an index instead of that regex,
  so that an entry costs a few dictionary lookups whatever the number of patterns: exact
  paths, prefixes and suffixes by value, and glob patterns by one literal part of one of
  their path components (a glob component matches a whole path component). Only the
  patterns the index returns are tried, in order: the time stays linear in the number of
  patterns plus the number of entries.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection
from functools import partial
from itertools import compress, repeat

from layerwise.context.ignore import PatternMatcher, _without_trailing_glob

__all__ = ["INDEX_MIN", "WalkMatcher"]

#: ignore files with more patterns than this are matched through a :class:`_PatternIndex`
INDEX_MIN = 256

_EXACT, _PREFIX, _SUFFIX, _REGEXP = 1, 2, 3, 4
_WILD = frozenset("*?[\\")
#: the regex syntax patternmatcher copies into a glob's regex unescaped (it escapes
#: ``.+()|{}$``): in Docker "^?" matches any one-character name, as the "^" is one more
#: anchor. A glob holding it has no literal part, depth or suffix to rely on
_RAW_ANCHOR = "^"

#: one pattern: (exclusion, match type, argument, second argument, depth), depth being the
#: number of "/" of every path it can match (-1 when that is not fixed)
Plan = tuple


class WalkMatcher:
    """The walk's view of one :class:`PatternMatcher` (patterns in file order)."""

    def __init__(self, matcher: PatternMatcher) -> None:
        self.matcher = matcher
        self.plan: list[Plan] = _match_plan(matcher)
        self.lines = [p.source.line for p in matcher.patterns]
        self.index = _PatternIndex(self.plan, matcher) if len(self.plan) > INDEX_MIN else None
        #: per pattern, a text every path it matches ends with ("" if there is none)
        self.suffixes = [_required_suffix(p, plan) for p, plan in zip(matcher.patterns, self.plan)]
        self._folder_plans: dict[tuple, tuple] = {}
        self._reinclude: tuple[bool, bool, list[str]] | None = None

    # -- per folder -------------------------------------------------------------------------

    def folder(self, info: tuple | None, depth: int) -> Callable[[list[str]], Collection[int]] | None:
        """For the children (at ``depth``) of a folder with MatchInfo ``info``: None when no
        pattern can match any of them (skip matching), else ``screen(paths)``, the indices
        of the paths some pattern may match (the others are sent, nothing inherited); those
        are decided by :meth:`match`."""
        if info is None:
            return _all  # the root: every pattern, parents included
        if self.index is not None:
            return _all if info else self._index_screen
        items, screen = self._folder_plan(info, depth)
        return screen if items else None

    def _index_screen(self, rels: list[str]) -> Collection[int]:
        candidates = self.index.candidates  # type: ignore[union-attr]
        return {i for i, rel in enumerate(rels) if candidates(rel)}

    def _folder_plan(self, info: tuple, depth: int) -> tuple:
        """(items, screen), cached: the patterns that can matter for the children at
        ``depth`` of a folder with MatchInfo ``info``, in order, as (index, inherited,
        exclusion, match type, arg, arg2); and the screen (see :meth:`folder`)."""
        key = (info, depth)
        cached = self._folder_plans.get(key)
        if cached is None:
            inherited = set(info)
            items = tuple(
                (i, i in inherited) + p[:4]
                for i, p in enumerate(self.plan)
                if i in inherited or p[4] < 0 or p[4] == depth
            )
            screen: Callable[[list[str]], Collection[int]] = _all
            if items and not inherited:
                suffixes = tuple(self.suffixes[i] for i, *_ in items)
                if all(suffixes):
                    screen = _suffix_screen(tuple(set(suffixes)))
                else:
                    try:
                        regex = re.compile("|".join(f"(?:{_alternative(p)})" for _, _, *p in items))
                    except re.error:  # pragma: no cover - each part compiled on its own already
                        pass
                    else:
                        screen = _regex_screen(regex.match)
            cached = self._folder_plans[key] = (items, screen)
        return cached

    # -- per entry ---------------------------------------------------------------------------

    def match(self, rel: str, info: tuple | None) -> tuple[bool, tuple, int]:
        """``(excluded, MatchInfo of rel, index of the deciding pattern or -1)`` for the path
        ``rel`` whose parent folder has MatchInfo ``info``."""
        plan = self.plan
        if info is None:
            return self._match_root(rel)
        if self.index is not None:
            order = self.index.candidates(rel)
            if info:
                order = sorted(set(order).union(info))
            inherited: tuple | frozenset = frozenset(info) if len(info) > 8 else info
            items = ((i, i in inherited) + plan[i][:4] for i in order)
        else:
            items, _screen = self._folder_plan(info, rel.count("/"))
        matched = False
        decider = -1
        hits: list[int] = []
        for i, inh, exclusion, mt, arg, arg2 in items:
            if not inh and (exclusion != matched or not _test(mt, arg, arg2, rel)):
                continue
            hits.append(i)
            matched = not exclusion
            decider = i
        return matched, tuple(hits), decider

    def _match_root(self, rel: str) -> tuple[bool, tuple, int]:
        """The zero MatchInfo: every pattern is tried on the path and on each parent."""
        plan = self.plan
        patterns = self.matcher.patterns
        if self.index is not None:
            order = set(self.index.candidates(rel))
            dirs = rel.split("/")[:-1]
            for k in range(1, len(dirs) + 1):
                order.update(self.index.candidates("/".join(dirs[:k])))
            order = sorted(order)
        else:
            order = range(len(plan))
        matched = False
        decider = -1
        hits: list[int] = []
        for i in order:
            exclusion, mt, arg, arg2, _depth = plan[i]
            if exclusion != matched:
                continue
            match = _test(mt, arg, arg2, rel)
            if not match and "/" in rel:
                dirs = rel.split("/")[:-1]
                pattern = patterns[i]
                match = any(pattern.match("/".join(dirs[:k])) for k in range(1, len(dirs) + 1))
            if match:
                hits.append(i)
                matched = not exclusion
                decider = i
        return matched, tuple(hits), decider

    def may_reinclude_below(self, dir_path: str) -> bool:
        """:meth:`PatternMatcher.may_reinclude_below`, with the pattern scan done once."""
        if self._reinclude is None:
            m = self.matcher
            wild = m.exclusions and not m.only_prefix_exceptions()
            prefixes = sorted(_without_trailing_glob(p.cleaned) + "/" for p in m.patterns if p.exclusion)
            self._reinclude = (m.exclusions, wild, prefixes)
        exclusions, wild, prefixes = self._reinclude
        if not exclusions:
            return False
        if wild:
            return True
        dir_slash = dir_path + "/"
        k = bisect.bisect_left(prefixes, dir_slash)
        return k < len(prefixes) and prefixes[k].startswith(dir_slash)


def _all(rels: list[str]) -> range:
    return range(len(rels))


def _suffix_screen(suffixes: tuple[str, ...]) -> Callable[[list[str]], Collection[int]]:
    """Paths ending with one of ``suffixes`` (no regex): one call per folder to the C
    accelerator's ``ends_with_any`` when it is there, else one C-level call per path."""
    from layerwise.context import native

    ends_with_any = native.function("ends_with_any")
    if ends_with_any is not None:

        def screen(rels: list[str]) -> Collection[int]:
            hits = ends_with_any(rels, suffixes)
            return set(hits) if hits else ()

        return screen
    return partial(_suffix_screen_py, suffixes=suffixes)


def _suffix_screen_py(rels: list[str], suffixes: tuple[str, ...]) -> Collection[int]:
    """The pure-Python twin of the C screen above (``_fastscan.ends_with_any``)."""
    found = list(map(str.endswith, rels, repeat(suffixes)))
    if True not in found:
        return ()
    return set(compress(range(len(found)), found))  # (the indices of the hits, in C)


def _regex_screen(match: Callable[[str], object]) -> Callable[[list[str]], Collection[int]]:
    """Paths the combined regex of the folder's patterns matches."""

    def screen(rels: list[str]) -> Collection[int]:
        found = list(map(match, rels))
        if found.count(None) == len(found):
            return ()
        return set(compress(range(len(found)), found))  # (a match object is true, None false)

    return screen


def _required_suffix(pattern, plan: Plan) -> str:
    """A text that every path ``pattern`` matches ends with, or "" when there is none to
    tell (a trailing wildcard, class or escape)."""
    _exclusion, mt, arg, arg2, _depth = plan
    if mt == _EXACT:
        return arg
    if mt == _PREFIX:
        return ""
    if mt == _SUFFIX:
        return arg2 if arg2 is not None else arg
    c = pattern.cleaned
    if "\\" in c or _RAW_ANCHOR in c:
        return ""
    return _literal_end(c, _WILD | {"]"})


def _test(mt: int, arg, arg2, rel: str) -> bool:
    if mt == _EXACT:
        return rel == arg
    if mt == _REGEXP:
        return arg(rel) is not None
    if mt == _PREFIX:
        return rel.startswith(arg)
    return rel.endswith(arg) or rel == arg2


def _alternative(p: tuple) -> str:
    """One pattern as a part of the combined "does anything match" regex."""
    _exclusion, mt, arg, arg2 = p
    if mt == _EXACT:
        return re.escape(arg) + r"\Z"
    if mt == _PREFIX:
        return re.escape(arg)
    if mt == _SUFFIX:
        alt = r"(?s:.*)" + re.escape(arg) + r"\Z"
        if arg2 is not None:
            alt += "|" + re.escape(arg2) + r"\Z"
        return alt
    return arg.__self__.pattern


def _match_plan(matcher: PatternMatcher) -> list[Plan]:
    plan = []
    for p in matcher.patterns:
        c = p.cleaned
        fixed = "**" not in c and "[" not in c and p.match_type in (_EXACT, _REGEXP)
        fixed = fixed and (p.match_type == _EXACT or _RAW_ANCHOR not in c)
        depth = c.count("/") if fixed else -1
        if p.match_type == _EXACT:
            plan.append((p.exclusion, _EXACT, c, None, depth))
        elif p.match_type == _PREFIX:
            plan.append((p.exclusion, _PREFIX, c[:-2], None, -1))
        elif p.match_type == _SUFFIX:
            suffix = c[2:]
            # "**/foo" also matches "foo" itself; a suffix without "/" has no such case
            plan.append((p.exclusion, _SUFFIX, suffix, suffix[1:] if suffix[:1] == "/" else None, -1))
        else:
            plan.append((p.exclusion, _REGEXP, p.regex.match, None, depth))  # type: ignore[union-attr]
    return plan


class _ByLength:
    """Strings grouped by length, to find which of them are a prefix (or suffix) of a path
    with one dictionary lookup per distinct length."""

    __slots__ = ("by_value", "lengths")

    def __init__(self) -> None:
        self.by_value: dict[str, list[int]] = {}
        self.lengths: list[int] = []

    def add(self, value: str, i: int) -> None:
        self.by_value.setdefault(value, []).append(i)

    def freeze(self) -> None:
        self.lengths = sorted({len(v) for v in self.by_value})

    def prefixes_of(self, s: str, out: list[int]) -> None:
        get = self.by_value.get
        n = len(s)
        for k in self.lengths:
            if k > n:
                break
            found = get(s[:k])
            if found:
                out.extend(found)

    def suffixes_of(self, s: str, out: list[int]) -> None:
        get = self.by_value.get
        n = len(s)
        for k in self.lengths:
            if k > n:
                break
            found = get(s[n - k :] if k else "")
            if found:
                out.extend(found)


class _PatternIndex:
    """Which patterns may match a path, found by lookups rather than by trying each pattern.

    Exact patterns by path; ``prefix**`` patterns by prefix; ``**suffix`` patterns by suffix;
    glob patterns by one literal part of one component: the component itself when it has no
    wildcard, else its literal start or end (the longest). A glob whose components cannot be
    told apart this way (a ``**`` inside a component, an escape, a character class, or no
    literal part at all, or regex syntax Docker leaves raw) is always a candidate. Candidates
    are then tried for real."""

    def __init__(self, plan: list[Plan], matcher: PatternMatcher) -> None:
        self.exact: dict[str, list[int]] = {}
        self.prefix = _ByLength()
        self.suffix = _ByLength()
        self.comp_exact: dict[str, list[int]] = {}
        self.comp_prefix = _ByLength()
        self.comp_suffix = _ByLength()
        self.always: list[int] = []
        for i, (_exclusion, mt, arg, arg2, _depth) in enumerate(plan):
            if mt == _EXACT:
                self.exact.setdefault(arg, []).append(i)
            elif mt == _PREFIX:
                self.prefix.add(arg, i)
            elif mt == _SUFFIX:
                self.suffix.add(arg, i)
                if arg2 is not None:
                    self.exact.setdefault(arg2, []).append(i)
            else:
                self._add_glob(matcher.patterns[i].cleaned, i)
        for by_length in (self.prefix, self.suffix, self.comp_prefix, self.comp_suffix):
            by_length.freeze()

    def _add_glob(self, source: str, i: int) -> None:
        if (
            "\\" in source
            or "[" in source
            or _RAW_ANCHOR in source
            or any("**" in c and c != "**" for c in source.split("/"))
        ):
            self.always.append(i)  # components that do not map one to one to path components
            return
        best: tuple[int, int, str] | None = None  # (rank, length, literal)
        for comp in source.split("/"):
            if comp == "**":
                continue
            if not any(c in _WILD for c in comp):
                cand = (3, len(comp), comp)
            else:
                start = _literal_start(comp)
                end = _literal_end(comp)
                cand = (1, len(start), "<" + start) if len(start) >= len(end) else (1, len(end), ">" + end)
                if cand[1] == 0:
                    continue
            if best is None or cand[:2] > best[:2]:
                best = cand
        if best is None:
            self.always.append(i)
        elif best[0] == 3:
            self.comp_exact.setdefault(best[2], []).append(i)
        elif best[2][0] == "<":
            self.comp_prefix.add(best[2][1:], i)
        else:
            self.comp_suffix.add(best[2][1:], i)

    def candidates(self, rel: str) -> list[int]:
        """Indices (sorted, no repeats) of the patterns that may match ``rel``."""
        out: list[int] = []
        found = self.exact.get(rel)
        if found:
            out.extend(found)
        if self.prefix.lengths:
            self.prefix.prefixes_of(rel, out)
        if self.suffix.lengths:
            self.suffix.suffixes_of(rel, out)
        comp_exact = self.comp_exact.get
        for comp in rel.split("/"):
            found = comp_exact(comp)
            if found:
                out.extend(found)
            if self.comp_prefix.lengths:
                self.comp_prefix.prefixes_of(comp, out)
            if self.comp_suffix.lengths:
                self.comp_suffix.suffixes_of(comp, out)
        out.extend(self.always)
        if len(out) > 1:
            out = sorted(set(out))
        return out

    def none_match(self, rel: str) -> object:
        """None when no pattern can match ``rel`` (the walk's quick test)."""
        return self.candidates(rel) or None


def _literal_start(comp: str) -> str:
    for k, c in enumerate(comp):
        if c in _WILD:
            return comp[:k]
    return comp


def _literal_end(comp: str, wild: frozenset[str] = _WILD) -> str:
    for k in range(len(comp) - 1, -1, -1):
        if comp[k] in wild:
            return comp[k + 1 :]
    return comp
