"""``explain --ci`` (layerwise.analyses.fresh_runner) without an engine: what a fresh runner
rebuilds for each imported cache mode, and where the mode comes from (the CI file, or
--cache-mode). tests/engine/test_fresh_runner.py checks the same rules against the engine."""

from __future__ import annotations

import json
import shutil

import pytest

from layerwise.api import explain_project

BUILDER = """\
FROM busybox AS builder
WORKDIR /src
COPY requirements.txt .
RUN mkdir -p /install && cp requirements.txt /install/deps.txt
COPY app.py .
FROM busybox
COPY --from=builder /install /install
COPY --from=builder /src /app
"""


@pytest.fixture
def states(tmp_path):
    before = tmp_path / "before"
    before.mkdir()
    (before / "Dockerfile").write_text(BUILDER)
    (before / "requirements.txt").write_text("# none\n")
    (before / "app.py").write_text("print(1)\n")
    after = tmp_path / "after"
    shutil.copytree(before, after)
    (after / "app.py").write_text("print(2)\n")
    return before, after


def _statuses(result) -> dict[int, str]:
    return {s.line: s.status for s in result.explanation.steps if s.kind != "from"}


def test_max_is_the_plain_prediction(states):
    before, after = states
    plain = explain_project(str(after), before=str(before), after=str(after), timings=False)
    ci = explain_project(str(after), before=str(before), after=str(after), timings=False, ci=True, cache_mode="max")
    assert _statuses(ci) == _statuses(plain)
    assert _statuses(ci)[4] == "cached" and _statuses(ci)[5] == "rebuilt"
    assert "mode=max (--cache-mode)" in ci.explanation.assumptions[0]


def test_min_runs_a_builder_stage_from_its_start(states):
    before, after = states
    ci = explain_project(str(after), before=str(before), after=str(after), timings=False, ci=True, cache_mode="min")
    st = _statuses(ci)
    assert [st[n] for n in (2, 3, 4, 5)] == ["rebuilt"] * 4
    assert st[7] == "cached"  # COPY --from of files the re-run writes the same
    assert st[8] == "rebuilt"
    cause = next(s.cause for s in ci.explanation.steps if s.line == 4)
    assert cause.type == "ci-min-mode"


def test_min_with_nothing_changed_is_all_cached(states):
    before, _ = states
    ci = explain_project(str(before), before=str(before), after=str(before), timings=False, ci=True, cache_mode="min")
    assert set(_statuses(ci).values()) == {"cached"}


def test_none_rebuilds_every_step(states):
    before, after = states
    ci = explain_project(str(after), before=str(before), after=str(after), timings=False, ci=True, cache_mode="none")
    assert set(_statuses(ci).values()) == {"rebuilt"}


@pytest.mark.parametrize(
    "inputs,mode",
    [
        ("cache-from: type=gha\n          cache-to: type=gha", "min"),
        ("cache-from: type=gha\n          cache-to: type=gha,mode=max", "max"),
        ("push: true", "none"),
    ],
)
def test_the_mode_comes_from_the_ci_file(states, inputs, mode):
    before, after = states
    wf = after / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "ci.yml").write_text(
        "on: push\njobs:\n  image:\n    runs-on: x\n    steps:\n      - uses: docker/setup-buildx-action@v3\n"
        f"      - uses: docker/build-push-action@v6\n        with:\n          {inputs}\n"
    )
    ci = explain_project(str(after), before=str(before), after=str(after), timings=False, ci=True)
    assert f"mode={mode}" in ci.explanation.assumptions[0] or (mode == "none" and "no cache" in ci.explanation.assumptions[0])
    assert "ci.yml:7" in ci.explanation.assumptions[0]


_STEP = "      - uses: docker/build-push-action@v6\n        with:\n          {}\n"


@pytest.mark.parametrize(
    "first,second,expect",
    [
        # the first build imports what the second exports (registry, max): the import holds it
        ("cache-from: type=registry,ref=me/app:cache",
         "cache-from: type=registry,ref=me/app:cache\n          cache-to: type=registry,ref=me/app:cache,mode=max",
         ("mode=max", "ci.yml:7, exported by ", "ci.yml:10)")),
        # an import of a cache no build exports finds nothing, whatever else is exported
        ("cache-from: type=gha,scope=a\n          cache-to: type=gha,scope=b,mode=max", "push: true",
         ("no cache imported", "ci.yml:7: a cache no CI build exports)")),
        # an import of an image that embeds its cache (inline: the final image's layers)
        ("cache-from: type=registry,ref=me/app:latest",
         "build-args: BUILDKIT_INLINE_CACHE=1\n          tags: me/app:latest\n          push: true",
         ("mode=min", "ci.yml:7, exported by ", "ci.yml:10)")),
    ],
)  # fmt: skip
def test_the_mode_is_the_export_s_that_the_import_reads(states, first, second, expect):
    """Two builds of the Dockerfile: what a fresh runner imports is what the build's
    ``cache-from`` reads, as some CI build exported it (found on a real workflow, where the
    mode came from the first build's own, absent, cache-to)."""
    before, after = states
    wf = after / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "ci.yml").write_text("on: push\njobs:\n  image:\n    runs-on: x\n    steps:\n"
                               "      - uses: docker/setup-buildx-action@v3\n"
                               + _STEP.format(first) + _STEP.format(second))  # fmt: skip
    ci = explain_project(str(after), before=str(before), after=str(after), timings=False, ci=True)
    said = ci.explanation.assumptions[0]
    assert all(part in said for part in expect) and said.endswith(expect[-1]), said


@pytest.mark.parametrize(("where", "install"), [("before", "rebuilt"), ("after", "cached")])
def test_a_build_arg_ci_sets_to_the_commit_changes_on_every_build(tmp_path, where, install):
    """``build-args: BUILD_COMMIT=${{ github.sha }}``: each CI build passes another value, which
    every RUN after ``ARG BUILD_COMMIT`` sees (engine scenarios 18 and 60): declared before the
    install, the install reruns; after it, it stays cached (LW609 says the same)."""
    arg = "ARG BUILD_COMMIT\nENV APP_BUILD_COMMIT=$BUILD_COMMIT\n"
    deps = "COPY requirements.txt .\nRUN cat requirements.txt\n"
    (tmp_path / "Dockerfile").write_text("FROM busybox\n" + (arg + deps if where == "before" else deps + arg)
                                         + "COPY app.py .\n")  # fmt: skip
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "app.py").write_text("print(1)\n")
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "ci.yml").write_text(
        "on: push\njobs:\n  image:\n    runs-on: x\n    steps:\n      - uses: docker/setup-buildx-action@v3\n"
        + _STEP.format("build-args: BUILD_COMMIT=${{ github.sha }}\n          cache-from: type=gha\n"
                       "          cache-to: type=gha,mode=max"))  # fmt: skip
    ci = explain_project(str(tmp_path), before=str(tmp_path), after=str(tmp_path), timings=False, ci=True)
    run = next(s for s in ci.explanation.steps if s.instruction == "RUN cat requirements.txt")
    assert run.status == install
    if install == "rebuilt":
        assert "BUILD_COMMIT" in run.cause.message
    assert any("BUILD_COMMIT to the commit's SHA" in a for a in ci.explanation.assumptions)
    plain = explain_project(str(tmp_path), before=str(tmp_path), after=str(tmp_path), timings=False)
    assert {s.status for s in plain.explanation.steps if s.kind != "from"} <= {"cached", "metadata"}


def test_cli_json_has_the_same_shape(states, capsys):
    from layerwise.cli import main

    before, after = states
    with pytest.raises(SystemExit) as exc:
        main(["explain", str(after), "--before", str(before), "--after", str(after), "--cache-mode", "min",
              "--format", "json"])  # fmt: skip
    assert exc.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert {"builder", "target", "summary", "assumptions", "steps"} <= set(out)
    assert out["summary"]["first_miss_line"] == 2


def test_bench_ci_never_uses_your_docker(tmp_path, monkeypatch):
    from layerwise.bench.engines import open_engine
    from layerwise.errors import LayerwiseError

    monkeypatch.setenv("LAYERWISE_ENGINE_DIR", str(tmp_path / "none"))
    with pytest.raises(LayerwiseError, match="never on your Docker"), open_engine(lambda s: None, ci=True):
        pass


def test_bench_ci_two_modes_make_before_and_after(states):
    from layerwise.bench import make_plan
    from layerwise.cli.bench_cmd import _fresh_runner_variants
    from layerwise.errors import UsageError

    _, after = states
    plan = make_plan(after, runs=1)
    _fresh_runner_variants(plan, str(after), ("min", "max"), False, None)
    assert [(v.name, v.ci_mode) for v in plan.variants] == [("before", "min"), ("after", "max")]
    plan = make_plan(after, against=str(after / "Dockerfile"), runs=1)
    assert len(plan.variants) == 2
    with pytest.raises(UsageError):
        _fresh_runner_variants(plan, str(after), ("min", "max"), False, None)
    _fresh_runner_variants(plan, str(after), (), False, None)  # no CI file: max
    assert {v.ci_mode for v in plan.variants} == {"max"}


@pytest.mark.parametrize("move, said", [
    ("      - run: rm -rf /tmp/.buildx-cache && mv /tmp/.buildx-cache-new /tmp/.buildx-cache\n", "mode=max"),
    ("", "no cache imported"),
])  # fmt: skip
def test_a_local_cache_moved_over_the_imported_folder_is_imported(states, move, said):
    """explain --ci reads the move step as LW605 does (tests/unit/rules/test_lw605.py): with it
    the next run imports the max-mode export; without it the import finds nothing."""
    before, after = states
    wf = after / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "ci.yml").write_text("on: push\njobs:\n  image:\n    runs-on: x\n    steps:\n"
                               "      - uses: docker/setup-buildx-action@v3\n"
                               + _STEP.format("cache-from: type=local,src=/tmp/.buildx-cache\n"
                                              "          cache-to: type=local,dest=/tmp/.buildx-cache-new,mode=max") + move)  # fmt: skip
    ci = explain_project(str(after), before=str(before), after=str(after), timings=False, ci=True)
    assert said in ci.explanation.assumptions[0], ci.explanation.assumptions[0]
