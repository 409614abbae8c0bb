"""The real-world Dockerfiles of tests/data/corpus: each parses or is rejected with a located
message, and our parser agrees with BuildKit's own Go parser (the ``dockerfile`` wheel, which
embeds moby/buildkit's parser) on every instruction."""

from __future__ import annotations

import pytest

from layerwise.errors import LayerwiseError
from layerwise.parse import ParseError, parse_file
from layerwise.resolve.stages import resolve
from tests.shared import DATA, corpus_files, shared_path

FILES = corpus_files()

# The one templated file (cookiecutter's Jinja) is not a Dockerfile; BuildKit rejects it too.
# And one file has a typo that BuildKit rejects as well.
REJECTED = {
    "069-cookiecutter-cookiecutter-django.Dockerfile": "unknown instruction: {%",
    "076-suvarnakotha-503-myapp.Dockerfile": "unknown instruction: WORKID (did you mean WORKDIR?)",
}


def test_corpus_holds_what_its_index_lists():
    with open(shared_path("corpus", "INDEX.tsv"), encoding="utf-8") as fh:
        listed = sorted(line.split("\t", 1)[0].removeprefix("files/") for line in fh.read().splitlines()[1:])
    assert [p.name for p in FILES] == listed
    # the in-repo copy: the 76 files of the corpus but the four without a license (README.md)
    assert len(FILES) == (72 if shared_path("corpus") == DATA / "corpus" else 76)


def _normalise(node):
    args = list(node.args)
    if node.cmd in ("env", "label"):  # the separator element is newer than the wheel's BuildKit
        args = [a for i, a in enumerate(args) if i % 3 != 2]
    if node.trigger is not None:
        args = [node.trigger.keyword, *_normalise(node.trigger)[2]]
    return (node.cmd, list(node.flags), args, node.original, node.start_line, node.end_line,
            [(h.name, h.content) for h in node.heredocs])  # fmt: skip


def _reference(ref):
    value = list(ref.value)
    if ref.cmd.lower() == "onbuild":
        value = [ref.sub_cmd, *ref.value]
    original = ref.original
    if ref.heredocs:  # the wheel appends the heredoc bodies to Original; BuildKit does not
        original = original.split("\n", 1)[0]
    return (ref.cmd.lower(), list(ref.flags), value, original, ref.start_line, ref.end_line,
            [(h.name, h.content) for h in ref.heredocs])  # fmt: skip


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_parses_like_buildkit(path):
    dockerfile = pytest.importorskip("dockerfile")
    reference = dockerfile.parse_file(str(path))
    mine = parse_file(path)
    assert [_normalise(n) for n in mine.nodes] == [_reference(r) for r in reference]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:40])
def test_resolves_or_rejects_with_location(path):
    try:
        build = resolve(parse_file(path))
    except ParseError as exc:
        assert path.name in REJECTED, str(exc)
        assert REJECTED[path.name] in exc.message
        assert exc.location.line is not None
        return
    except LayerwiseError as exc:  # pragma: no cover - reported with the file name
        pytest.fail(f"unexpected rejection: {exc}")
    assert path.name not in REJECTED
    assert build.stages
