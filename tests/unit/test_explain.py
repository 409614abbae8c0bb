"""The cache simulation on in-memory contexts: each case is (Dockerfile before, files before,
Dockerfile after, files after) -> the status of every step, for one builder. The same semantics
are checked against a real engine in tests/engine/test_explain_scenarios.py."""

from __future__ import annotations

import pytest

from layerwise.analyses.cache import Entry
from layerwise.analyses.explain import explain
from layerwise.parse import parse
from layerwise.resolve.stages import resolve

BAD = 'FROM python:3.10-slim\nWORKDIR /app\nADD . /app\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n'
GOOD = (
    "FROM python:3.10-slim\nWORKDIR /app\nCOPY requirements.txt ./\n"
    "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
)


def F(**files):
    out = {}
    for name, spec in files.items():
        name = name.replace("__", "/").replace("_DOT_", ".")
        if isinstance(spec, Entry):
            out[name] = spec
        else:
            out[name] = Entry("file", 0o644, spec)
    return out


BASE = {'app_DOT_py': "a1", 'requirements_DOT_txt': "r1"}


def run(df_before, files_before, df_after=None, files_after=None, builder="buildkit", **kw):
    b = resolve(parse(df_before), kw.pop("args_before", None))
    a = resolve(parse(df_after or df_before), kw.pop("args_after", None))
    e = explain(b, files_before, a, files_after if files_after is not None else files_before,
                builder=builder, **kw)  # fmt: skip
    return e


def statuses(e):
    return [s.status for s in e.steps]


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_article_bad_dockerfile_code_change(builder):
    e = run(BAD, F(**BASE), files_after=F(**{**BASE, "app_DOT_py": "a2"}), builder=builder)
    tail = "metadata" if builder == "buildkit" else "rebuilt"
    assert statuses(e) == ["cached", "cached", "rebuilt", "rebuilt", tail]
    add, pip = e.steps[2], e.steps[3]
    assert add.cause.type == "files" and add.cause.detail["paths"] == [{"path": "app.py", "change": "modified"}]
    assert pip.cause.type == "parent" and pip.cause.detail["parent_line"] == 3
    assert e.first_miss is add


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_article_good_dockerfile_code_change(builder):
    e = run(GOOD, F(**BASE), files_after=F(**{**BASE, "app_DOT_py": "a2"}), builder=builder)
    assert statuses(e)[:5] == ["cached", "cached", "cached", "cached", "rebuilt"]


def test_requirements_change_reruns_pip():
    e = run(GOOD, F(**BASE), files_after=F(**{**BASE, "requirements_DOT_txt": "r2"}))
    assert statuses(e)[:5] == ["cached", "cached", "rebuilt", "rebuilt", "rebuilt"]
    assert e.steps[2].cause.detail["paths"][0]["path"] == "requirements.txt"


@pytest.mark.parametrize(
    ("after", "status", "change"),
    [
        (Entry("file", 0o755, "a1"), "rebuilt", "mode"),  # chmod counts
        (Entry("file", 0o644, "a1"), "cached", None),  # same content: mtime/owner never count
        (Entry("symlink", 0o777, "", "other.py"), "rebuilt", "type"),
    ],
)
def test_metadata_that_counts(after, status, change):
    e = run(BAD, F(**BASE), files_after=F(**{**BASE, "app_DOT_py": after}))
    assert e.steps[2].status == status
    if change:
        assert e.steps[2].cause.detail["paths"][0]["change"] == change


def test_rename_and_new_empty_dir_rebuild():
    renamed = F(main_DOT_py="a1", requirements_DOT_txt="r1")
    assert run(BAD, F(**BASE), files_after=renamed).steps[2].status == "rebuilt"
    with_dir = {**F(**BASE), "empty": Entry("dir", 0o755)}
    e = run(BAD, F(**BASE), files_after=with_dir)
    assert e.steps[2].cause.detail["paths"] == [{"path": "empty", "change": "added"}]


def test_buildkit_ignores_subdirectory_mode_on_incremental_sync():
    before = {**F(**BASE), "pkg": Entry("dir", 0o755)}
    after = {**F(**BASE), "pkg": Entry("dir", 0o700)}
    assert run(BAD, before, files_after=after).steps[2].status == "cached"
    assert run(BAD, before, files_after=after, builder="legacy").steps[2].status == "rebuilt"


@pytest.mark.parametrize(
    ("change", "buildkit", "legacy"),
    [
        # comment-only and case-only edits change nothing
        ("# a comment\n", ["cached"] * 4, ["cached"] * 4),
        # LABEL: metadata in BuildKit; a new commit that busts everything after in legacy
        ('LABEL a="1"\n', ["cached"] * 4, ["cached", "rebuilt", "rebuilt", "rebuilt"]),
        # ENV: only later RUNs see it in BuildKit
        ("ENV A=1\n", ["cached", "cached", "rebuilt"], ["cached", "rebuilt", "rebuilt", "rebuilt"]),
    ],
)
def test_instruction_kinds(change, buildkit, legacy):
    before = "FROM busybox\nCOPY a.txt /a.txt\nRUN echo hi\n"
    after = "FROM busybox\n" + change + "COPY a.txt /a.txt\nRUN echo hi\n"
    files = F(a_DOT_txt="x")
    got_bk = [s.status for s in run(before, files, after, files).steps if s.status != "metadata"]
    got_lg = [s.status for s in run(before, files, after, files, builder="legacy").steps]
    assert got_bk == buildkit[: len(got_bk)]
    assert got_lg == legacy[: len(got_lg)]


def test_build_arg_reaches_every_later_run_in_scope():
    df = "FROM busybox\nARG V=1\nCOPY a.txt /a.txt\nRUN echo unrelated\n"
    files = F(a_DOT_txt="x")
    e = run(df, files, args_before={"V": "1"}, args_after={"V": "2"})
    assert [s.status for s in e.steps] == ["cached", "metadata", "cached", "rebuilt"]
    assert e.steps[3].cause.type == "variables" and e.steps[3].cause.detail["names"] == ["V"]


def test_undeclared_and_proxy_build_args_do_not_count():
    df = "FROM busybox\nRUN echo hi\n"
    e = run(df, {}, args_before={"HTTP_PROXY": "a", "X": "1"}, args_after={"HTTP_PROXY": "b", "X": "2"})
    assert e.steps[1].status == "cached"


def test_whitespace_inside_run_counts():
    e = run("FROM busybox\nRUN echo  hi\n", {}, "FROM busybox\nRUN echo hi\n", {})
    assert e.steps[1].status == "rebuilt" and e.steps[1].cause.type == "instruction"


def test_multistage_unneeded_stage_not_built_and_unchanged_stage_cached():
    df = (
        "FROM busybox AS deps\nCOPY req.txt /req.txt\nRUN echo deps\n"
        "FROM busybox AS unused\nRUN echo unused\n"
        "FROM busybox\nCOPY --from=deps /req.txt /r\nCOPY app.py /app.py\n"
    )
    e = run(df, F(req_DOT_txt="1", app_DOT_py="a"), files_after=F(req_DOT_txt="1", app_DOT_py="b"))
    by_line = {s.line: s.status for s in e.steps}
    assert by_line[3] == "cached" and by_line[5] == "not-built"
    assert by_line[7] == "cached" and by_line[8] == "rebuilt"
    legacy = run(df, F(req_DOT_txt="1", app_DOT_py="a"), files_after=F(req_DOT_txt="1", app_DOT_py="b"),
                 builder="legacy")  # fmt: skip
    assert {s.line: s.status for s in legacy.steps}[5] == "cached"  # legacy builds every stage


def test_target_limits_the_build():
    df = "FROM busybox AS a\nRUN echo a\nFROM busybox AS b\nRUN echo b\n"
    e = run(df, {}, target="a")
    assert {s.line: s.status for s in e.steps} == {1: "cached", 2: "cached", 3: "not-built", 4: "not-built"}


def test_base_tag_is_an_assumption():
    e = run("FROM python:3.12\nRUN echo\n", {})
    assert e.steps[0].assumptions and "moved" in e.steps[0].assumptions[0]
    e = run("FROM python@sha256:" + "0" * 64 + "\nRUN echo\n", {})
    assert not e.steps[0].assumptions


def test_missing_source_is_reported():
    e = run("FROM busybox\nCOPY nope.txt /\n", {})
    assert e.steps[1].status == "rebuilt" and "nope.txt" in e.steps[1].cause.message


def test_copy_link_depends_on_parent_only_without_mergeop():
    before = "FROM busybox\nRUN echo 1\nCOPY --link a.txt /a\n"
    after = "FROM busybox\nRUN echo 2\nCOPY --link a.txt /a\n"
    # Docker's own engine has no MergeOp (moby/moby#45153): --link is a plain copy there
    e = run(before, F(a_DOT_txt="x"), after, F(a_DOT_txt="x"))
    assert [s.status for s in e.steps] == ["cached", "rebuilt", "rebuilt"]
    # a docker-container builder honours it
    e = run(before, F(a_DOT_txt="x"), after, F(a_DOT_txt="x"), link_effective=True)
    assert [s.status for s in e.steps] == ["cached", "rebuilt", "cached"]


def test_user_change_busts_workdir_but_not_copy():
    before = "FROM busybox\nCOPY a.txt /a\nWORKDIR /w\n"
    after = "FROM busybox\nUSER 1000\nCOPY a.txt /a\nWORKDIR /w\n"
    e = run(before, F(a_DOT_txt="x"), after, F(a_DOT_txt="x"))
    assert [s.status for s in e.steps if s.status != "metadata"] == ["cached", "cached", "rebuilt"]


def test_legacy_keys_on_proxy_arg_presence_not_value():
    df = "FROM busybox\nRUN echo hi\n"
    same = run(df, {}, args_before={"HTTP_PROXY": "a"}, args_after={"HTTP_PROXY": "b"}, builder="legacy")
    assert same.steps[1].status == "cached"
    new = run(df, {}, args_before={}, args_after={"HTTP_PROXY": "b"}, builder="legacy")
    assert new.steps[1].status == "rebuilt"
    assert run(df, {}, args_before={}, args_after={"HTTP_PROXY": "b"}).steps[1].status == "cached"


# --- COPY --from is keyed on the content of the copied paths (issue 13 item 1) ---------------

VENV = (
    "FROM busybox AS build\nWORKDIR /src\nRUN mkdir -p /opt/deps && echo dep > /opt/deps/lib.txt\n"
    "COPY app.py .\nFROM busybox\nCOPY --from=build /opt/deps /opt/deps\n"
    "COPY --from=build /src/app.py /app/app.py\nRUN cat /app/app.py\n"
)


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_copy_from_of_a_path_the_rebuild_did_not_touch_stays_cached(builder):
    e = run(VENV, F(app_DOT_py="a"), files_after=F(app_DOT_py="b"), builder=builder)
    by_line = {s.line: s for s in e.steps}
    assert [by_line[n].status for n in (2, 3, 4, 6, 7, 8)] == [
        "cached", "cached", "rebuilt", "cached", "rebuilt", "rebuilt"]  # fmt: skip
    cause = by_line[7].cause
    assert cause.type == "stage"
    assert cause.detail["paths"] == [{"path": "/src/app.py", "written_by": [4]}]
    assert "/src/app.py, written by line 4 (COPY app.py .)" in cause.message
    # the step after it is rebuilt because of line 7, not because of the stage
    assert by_line[8].cause.type == "parent" and by_line[8].cause.detail["parent_line"] == 7


WHEELS = (
    "FROM python:3.12-slim AS builder\nWORKDIR /usr/src/app\nCOPY . .\n"
    "RUN pip wheel --no-deps --wheel-dir /usr/src/app/wheels -r requirements.txt\n"
    "FROM python:3.12-slim\nCOPY --from=builder /usr/src/app/wheels /wheels\n"
    "RUN pip install --no-cache /wheels/*\nCOPY . /app\n"
)


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_copy_from_of_what_a_rerun_run_wrote_says_it_may_come_from_the_cache(builder):
    """django-on-docker-prod (issue 13): the re-run `pip wheel` wrote byte-identical wheels and
    the engine kept the COPY --from (and what follows it) cached. explain cannot know what a RUN
    writes: it says REBUILD, and that the step and those after it may come from the cache
    (tests/engine/scenarios/51b: the engine did)."""
    files = F(app_DOT_py="a", requirements_DOT_txt="flask==3.0.3")
    e = run(WHEELS, files, files_after=F(app_DOT_py="b", requirements_DOT_txt="flask==3.0.3"), builder=builder)
    by_line = {s.line: s for s in e.steps}
    assert [by_line[n].status for n in (3, 4, 6, 7, 8)] == ["rebuilt"] * 5
    assert [by_line[n].may_be_cached for n in (3, 4, 6, 7, 8)] == [False, False, True, True, False]
    copy, install = by_line[6], by_line[7]
    assert copy.cause.type == "stage" and copy.cause.detail["may_be_cached"] is True
    assert "written by line 4 (RUN pip wheel" in copy.cause.message
    assert "If the RUN writes the same bytes again" in copy.cause.message and "from the cache" in copy.cause.message
    assert install.cause.type == "parent" and install.cause.message.endswith("which may come from the cache: then this step does too")
    # its own files changed: rebuilt whatever the wheels
    assert by_line[8].cause.type == "parent" and "may come from the cache" not in by_line[8].cause.message
    assert e.to_json()["steps"][6]["may_be_cached"] is True and "may_be_cached" not in e.to_json()["steps"][3]


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_a_copy_from_of_changed_files_is_no_hedge(builder):
    """The copied path holds a file that changed (not only what a RUN wrote): it rebuilds."""
    df = ("FROM busybox AS build\nCOPY app.py /src/app.py\nRUN cp /etc/passwd /src/lib.txt\n"
          "FROM busybox\nCOPY --from=build /src /src\nRUN cat /src/app.py\n")  # fmt: skip
    e = run(df, F(app_DOT_py="a"), files_after=F(app_DOT_py="b"), builder=builder)
    assert [(s.status, s.may_be_cached) for s in e.steps[-2:]] == [("rebuilt", False), ("rebuilt", False)]
    assert "If the RUN writes" not in e.steps[-2].cause.message


def test_explain_text_counts_the_steps_that_may_come_from_the_cache():
    from layerwise.report.explain import render_text

    files = F(app_DOT_py="a", requirements_DOT_txt="flask==3.0.3")
    e = run(WHEELS, files, files_after=F(app_DOT_py="b", requirements_DOT_txt="flask==3.0.3"))
    from rich.console import Console

    console = Console(record=True, width=200, no_color=True)
    render_text(e, before="HEAD", after=".", color=False, console=console)
    text = console.export_text()
    assert "5 step(s) rebuild" in text and "\n2 of them may come from the cache instead" in text, text


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_copy_from_of_what_a_rerun_run_wrote_rebuilds(builder):
    df = ("FROM busybox AS build\nCOPY app.py /src/app.py\nRUN cp /etc/passwd /opt/lib.txt\n"
          "FROM busybox\nCOPY --from=build /opt /opt\n")  # fmt: skip
    e = run(df, F(app_DOT_py="a"), files_after=F(app_DOT_py="b"), builder=builder)
    copy = e.steps[-1]
    assert copy.status == "rebuilt" and copy.cause.type == "stage"
    assert "line 3" in copy.cause.message and "RUN" in copy.cause.message
    # the same RUN, cached (it comes before the changed COPY): the COPY --from is cached
    df2 = ("FROM busybox AS build\nRUN cp /etc/passwd /opt/lib.txt\nCOPY app.py /src/app.py\n"
           "FROM busybox\nCOPY --from=build /opt /opt\n")  # fmt: skip
    assert run(df2, F(app_DOT_py="a"), files_after=F(app_DOT_py="b"), builder=builder).steps[-1].status == "cached"
    # a RUN that provably writes the same bytes again (echo of literal words): cached
    df3 = df.replace("cp /etc/passwd /opt/lib.txt", "mkdir -p /opt && echo dep > /opt/lib.txt")
    assert run(df3, F(app_DOT_py="a"), files_after=F(app_DOT_py="b"), builder=builder).steps[-1].status == "cached"


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
@pytest.mark.parametrize(("src", "status"), [
    ("/src/lib", "cached"),     # a subtree the change did not touch
    ("/src/lib/", "cached"),
    ("/src/lib/util.py", "cached"),
    ("/src/app", "rebuilt"),    # the changed subtree
    ("/src", "rebuilt"),        # its parent folder
    ("/", "rebuilt"),           # everything
    ("/src/l*", "rebuilt"),     # a wildcard: the folder above it, conservatively
])  # fmt: skip
def test_copy_from_subtree_parent_folder_and_root(builder, src, status):
    df = f"FROM busybox AS build\nCOPY src /src\nFROM busybox\nCOPY --from=build {src} /x/\n"
    before = F(src=Entry("dir", 0o755), src__lib=Entry("dir", 0o755), src__app=Entry("dir", 0o755),
               src__lib__util_DOT_py="u", src__app__main_DOT_py="m1")  # fmt: skip
    after = {**before, **F(src__app__main_DOT_py="m2")}
    e = run(df, before, files_after=after, builder=builder)
    assert e.steps[1].status == "rebuilt"
    assert e.steps[-1].status == status
    if status == "rebuilt":
        assert e.steps[-1].cause.type == "stage" and "written by line 2 (COPY src /src)" in e.steps[-1].cause.message


def test_copy_from_after_a_copy_that_only_reran_stays_cached():
    # the legacy builder re-runs the COPY after a LABEL change; it writes the same files
    before = "FROM busybox AS build\nLABEL v=1\nCOPY app.py /src/app.py\nFROM busybox\nCOPY --from=build / /\n"
    after = before.replace("v=1", "v=2")
    e = run(before, F(app_DOT_py="a"), after, F(app_DOT_py="a"), builder="legacy")
    assert [s.status for s in e.steps] == ["cached", "rebuilt", "rebuilt", "cached", "cached"]


@pytest.mark.parametrize(("copy", "status"), [
    ("COPY app.py /app/", "rebuilt"),        # lands at /app/app.py
    ("COPY app.py /app/main.py", "cached"),  # lands at /app/main.py
    ("COPY app.py /app", "rebuilt"),         # /app, or /app/app.py when /app is a folder
    ("COPY lib.py app.py /app/", "rebuilt"),
    ("ADD app.tar.gz /app/", "rebuilt"),     # unpacked: the names are not known
])  # fmt: skip
def test_copy_destination_paths(copy, status):
    df = f"FROM busybox AS build\n{copy}\nFROM busybox\nCOPY --from=build /app/app.py /x\n"
    before = F(app_DOT_py="a", lib_DOT_py="l", app_DOT_tar_DOT_gz="t")
    after = F(app_DOT_py="b", lib_DOT_py="l", app_DOT_tar_DOT_gz="t2")
    if copy.startswith("COPY app.py /app/main.py"):
        df = df.replace("/app/app.py /x", "/app/app.py /x\nCOPY --from=build /app/main.py /y")
        e = run(df, before, files_after=after)
        assert [s.status for s in e.steps][-2:] == ["cached", "rebuilt"]
        return
    assert run(df, before, files_after=after).steps[-1].status == status


# --- wildcard sources that match nothing (issue 13 item 2) -------------------------------------

POETRY = "FROM busybox\nWORKDIR /app\nCOPY pyproject.toml poetry.lock* ./\nRUN ls\nCOPY . .\n"


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_a_wildcard_that_matches_nothing_is_no_error(builder):
    base = F(pyproject_DOT_toml="p", app_DOT_py="a")
    e = run(POETRY, base, files_after={**base, **F(app_DOT_py="b")}, builder=builder)
    assert [s.status for s in e.steps] == ["cached", "cached", "cached", "cached", "rebuilt"]
    # the lock file appears: a new match
    e = run(POETRY, base, files_after={**base, **F(poetry_DOT_lock="l")}, builder=builder)
    copy = e.steps[2]
    assert copy.status == "rebuilt" and copy.cause.type == "files"
    assert copy.cause.detail["paths"] == [{"path": "poetry.lock", "change": "added"}]


def test_only_wildcards_matching_nothing_buildkit_goes_on_legacy_fails():
    df = "FROM busybox\nCOPY poetry.lock* constraints*.txt /app/\nRUN echo\n"
    assert [s.status for s in run(df, {}).steps] == ["cached", "cached", "cached"]
    legacy = run(df, {}, builder="legacy").steps[1]
    assert legacy.status == "rebuilt"
    assert legacy.cause.message == (
        "no file matches poetry.lock*, constraints*.txt: the legacy builder fails here"
        " (no source files were specified)"
    )
    # a plain path that is not there fails with both builders
    for builder in ("buildkit", "legacy"):
        step = run("FROM busybox\nCOPY poetry.lock* nope.txt /app/\n", {}, builder=builder).steps[1]
        assert step.status == "rebuilt" and step.cause.message.startswith("source not found in the build context: nope.txt")


# --- what the legacy builder cannot build (issue 13 item 3) -------------------------------------

@pytest.mark.parametrize(("text", "reason"), [
    ("FROM busybox\nRUN --mount=type=cache,target=/c echo\n", 'RUN --mount needs BuildKit ("the --mount option requires BuildKit")'),
    ("FROM busybox\nRUN --network=none echo\n", "RUN --network needs BuildKit"),
    ("FROM busybox\nRUN --security=insecure echo\n", "RUN --security is a flag it does not know"),
    ("FROM busybox\nCOPY --chmod=755 a /a\n", "COPY --chmod needs BuildKit"),
    ("FROM busybox\nADD --chmod=755 a /a\n", "ADD --chmod needs BuildKit"),
    ("FROM busybox\nCOPY --exclude=x . /a\n", "COPY --exclude is a flag it does not know"),
    ("FROM busybox\nCOPY --parents a /a/\n", "COPY --parents is a flag it does not know"),
    ("FROM busybox\nRUN <<EOF\necho hi\nEOF\n", "RUN <<EOF (a heredoc) needs BuildKit: it drops the heredoc's body"),
    ("FROM busybox\nCOPY <<EOF /x\nhi\nEOF\n", "COPY <<EOF (a heredoc) needs BuildKit"),
    ("FROM --platform=${BUILDPLATFORM} busybox\n", "FROM --platform=$BUILDPLATFORM: it does not set BUILDPLATFORM"),
    ("FROM busybox AS web\nCOPY --from=deps /x /x\nFROM busybox AS deps\nRUN echo > /x\n",
     'COPY --from=deps names a later stage, and it knows only the stages before: it pulls "deps" as an image'),
    ("FROM busybox AS web\nCOPY --from=1 /x /x\nFROM busybox\nRUN echo > /x\n",
     'COPY --from=1 names a later stage, and it knows only the stages before ("invalid from flag value 1: index out of bounds")'),
])  # fmt: skip
def test_legacy_refuses_what_it_cannot_build(text, reason):
    from layerwise.analyses.explain import UnsupportedByBuilder

    with pytest.raises(UnsupportedByBuilder) as err:
        run(text, F(a="x"), builder="legacy")
    assert reason in str(err.value)
    assert err.value.location.line == (1 if text.startswith("FROM --") else 2)
    assert run(text, F(a="x")).steps  # BuildKit builds it


@pytest.mark.parametrize("text", [
    "FROM busybox\nCOPY --link a /a\n",                     # ignored by the legacy builder
    "FROM busybox\nADD --checksum=sha256:" + "0" * 64 + " a /a\n",
    "FROM busybox AS a\nRUN echo\nFROM busybox\nRUN --mount=type=cache,target=/c echo\n",  # not built
    "FROM --platform=$BUILDPLATFORM busybox\n",            # given as a build arg
    # the stage copying from a later one comes after the target: not built
    "FROM busybox AS a\nRUN echo > /y\nFROM busybox AS web\nCOPY --from=deps /x /x\nFROM busybox AS deps\nRUN echo > /x\n",
    "FROM busybox AS deps\nRUN echo > /x\nFROM busybox\nCOPY --from=deps /x /x\nCOPY --from=0 /x /y\n",
])  # fmt: skip
def test_legacy_builds_these(text):
    args = {"BUILDPLATFORM": "linux/amd64"} if "BUILDPLATFORM" in text else None
    target = "a" if "AS a" in text else None
    e = run(text, F(a="x"), builder="legacy", target=target, args_before=args, args_after=args)
    assert all(s.status in ("cached", "metadata", "not-built") for s in e.steps)


def test_legacy_refusal_counts_the_others():
    from layerwise.analyses.explain import UnsupportedByBuilder

    with pytest.raises(UnsupportedByBuilder, match=r"RUN --mount needs BuildKit .* \(and 2 more\); explain it with --builder buildkit"):
        run("FROM busybox\nRUN --mount=type=cache,target=/c echo\nCOPY --chmod=1 a /a\nRUN <<EOF\nx\nEOF\n",
            F(a="x"), builder="legacy")  # fmt: skip


# --- what a re-run RUN can be proven to write ----------------------------------------------------

@pytest.mark.parametrize(("cmd", "paths"), [
    ("rm -rf /opt/x/.git &&     rm -rf stuff", ["/opt/x/.git", "/w/stuff"]),
    ("mkdir /data && chown hc /data", ["/data", "/data"]),
    ("chmod 755 run.sh; touch -c a", ["/w/run.sh", "/w/a"]),
    ("rm -rf \\\n    /a", ["/a"]),
    ("mkdir -p /opt/deps && echo dep > /opt/deps/lib.txt", ["/opt/deps", "/opt/deps/lib.txt"]),
    ("echo done && printf 'a b' > out.txt", ["/w/out.txt"]),
    ("echo dep >> /x", None),      # an append
    ("echo a > /x > /y", None),
    ("cat /etc/passwd > /x", None),
    ("echo dep | tee /x", None),
    ("rm -rf /x/*", None),         # a glob
    ("rm -rf $X", None),           # a variable
    ("rm -rf /a || true", None),
    ("apt-get update", None),
    ("chown hc", None),            # no path
    ("rm --no-preserve-root -rf /a", None),
])  # fmt: skip
def test_confined_writes(cmd, paths):
    from layerwise.analyses.cache import confined_writes

    b = resolve(parse(f"FROM busybox\nWORKDIR /w\nRUN {cmd}\n"))
    step = b.stages[0].steps[1]
    assert confined_writes(step, step.instruction) == paths
    # another shell: not known
    b = resolve(parse(f'FROM busybox\nWORKDIR /w\nSHELL ["pwsh", "-c"]\nRUN {cmd}\n'))
    step = b.stages[0].steps[2]
    assert confined_writes(step, step.instruction) is None


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_copy_from_after_a_rerun_rm_of_other_paths_stays_cached(builder):
    df = ("FROM busybox AS build\nRUN echo dep > /opt/lib.txt\nCOPY . /src\nRUN rm -rf /src/.git\n"
          "FROM busybox\nCOPY --from=build /opt /opt\nCOPY --from=build /src /src\n")  # fmt: skip
    e = run(df, F(app_DOT_py="a"), files_after=F(app_DOT_py="b"), builder=builder)
    assert [s.status for s in e.steps][-2:] == ["cached", "rebuilt"]
    # an rm of the copied path itself: what it leaves depends on nothing else, but the COPY . before it changed
    df2 = df.replace("rm -rf /src/.git", "rm -rf /opt/lib.txt")
    e = run(df2, F(app_DOT_py="a"), files_after=F(app_DOT_py="b"), builder=builder)
    assert [s.status for s in e.steps][-2:] == ["cached", "rebuilt"]


def test_run_bind_mount_from_a_stage_is_keyed_on_what_it_mounts():
    df = ("FROM busybox AS build\nRUN mkdir -p /wheels && echo w > /wheels/w.txt\nCOPY app.py /src/app.py\n"
          "FROM busybox\nRUN --mount=type=bind,target=/wheels,source=/wheels,from=build pip install /wheels/*\n"
          "RUN --mount=type=bind,target=/s,source=/src,from=build cat /s/app.py\n")  # fmt: skip
    e = run(df, F(app_DOT_py="a"), files_after=F(app_DOT_py="b"))
    assert [s.status for s in e.steps][-2:] == ["cached", "rebuilt"]
    cause = e.steps[-1].cause
    assert cause.type == "stage" and cause.message.startswith("what it mounts from stage build may have changed: /src")
