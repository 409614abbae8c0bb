"""bench's pure parts: the temporary edit, medians, the cross-check pairing, the plan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

import layerwise
from layerwise.bench import make_plan
from layerwise.bench.edit import edit_text, pick_change_file, temporary_edit
from layerwise.bench.results import BuildTime, StepTime, median_build
from layerwise.bench.run import copy_context, floor_dockerfile
from layerwise.engine.crosscheck import compare, disagreements, pair_steps, shared_step_stages
from layerwise.errors import LayerwiseError

EXAMPLES = Path(layerwise.__file__).parent / "examples"


# ---------------------------------------------------------------- the temporary edit
@pytest.mark.parametrize(
    ("original", "edited"),
    [
        (b"print(1)\n", b"print(1)\n# layerwise bench N\n"),
        (b"print(1)", b"print(1)\n# layerwise bench N\n"),
        (b"print(1)\r\n", b"print(1)\r\n# layerwise bench N\r\n"),
        (b"", b"# layerwise bench N\n"),
    ],
)
def test_edit_text(original, edited):
    assert edit_text(original, "N") == edited


def _state(p: Path):
    st = p.stat()
    return p.read_bytes(), st.st_mode, st.st_mtime_ns


def test_temporary_edit_restores_bytes_mode_and_mtime(tmp_path):
    p = tmp_path / "app.py"
    p.write_bytes(b"x = 1\n")
    os.chmod(p, 0o640)
    os.utime(p, ns=(1_000_000_000, 2_000_000_000))
    before = _state(p)
    with temporary_edit(p, "abc"):
        assert p.read_bytes() == b"x = 1\n# layerwise bench abc\n"
    assert _state(p) == before


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_temporary_edit_restores_on_exception(tmp_path, exc):
    p = tmp_path / "app.py"
    p.write_bytes(b"x = 1\n")
    before = _state(p)
    with pytest.raises(exc), temporary_edit(p, "abc"):
        raise exc()
    assert _state(p) == before


def test_temporary_edit_keeps_a_symlink_a_symlink(tmp_path):
    real = tmp_path / "real.py"
    real.write_bytes(b"x = 1\n")
    link = tmp_path / "app.py"
    link.symlink_to("real.py")
    with temporary_edit(link, "abc"):
        assert real.read_bytes().endswith(b"abc\n")
    assert link.is_symlink() and real.read_bytes() == b"x = 1\n"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_temporary_edit_restores_when_the_process_is_interrupted(tmp_path, sig):
    p = tmp_path / "app.py"
    p.write_bytes(b"x = 1\n")
    before = _state(p)
    code = textwrap.dedent(
        f"""
        import sys, time
        from layerwise.bench.edit import temporary_edit
        with temporary_edit({str(p)!r}, "abc"):
            print("edited", flush=True)
            for _ in range(600):  # (slices: a signal pending before one long sleep waits it out)
                time.sleep(0.1)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "edited"
    assert p.read_bytes() != before[0]
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert _state(p) == before


def test_temporary_edit_of_a_missing_file_is_a_located_error(tmp_path):
    with pytest.raises(LayerwiseError, match="cannot read the file to change"), temporary_edit(tmp_path / "nope.py", "x"):
        pass


@pytest.mark.parametrize(
    ("files", "chosen"),
    [
        (["lib/util.py", "app.py", "setup.py"], "app.py"),
        (["src/pkg/main.py", "src/pkg/util.py"], "src/pkg/main.py"),
        (["setup.py", "pkg/b.py", "a.py"], "a.py"),
        (["pkg/z.py", "pkg/sub/a.py"], "pkg/z.py"),
    ],
)
def test_pick_change_file(tmp_path, files, chosen):
    assert pick_change_file(tmp_path, files) == chosen


def test_pick_change_file_without_python_asks_for_change(tmp_path):
    with pytest.raises(LayerwiseError, match="--change"):
        pick_change_file(tmp_path, ["README.md"])


# ---------------------------------------------------------------- medians
def _build(total, *steps):
    return BuildTime(total, [StepTime(i, c, s, None, n) for n, (i, c, s) in enumerate(steps, 1)])


def test_median_build_per_step_and_total():
    runs = [
        _build(10.0, ("WORKDIR /app", True, 0.0), ("RUN pip install", False, 8.0)),
        _build(30.0, ("WORKDIR /app", True, 0.0), ("RUN pip install", False, 20.0)),
        _build(12.0, ("WORKDIR /app", False, 0.1), ("RUN pip install", False, 9.0)),
    ]
    m = median_build(runs)
    assert m.seconds == 12.0
    assert [(s.instruction, s.seconds) for s in m.steps] == [("WORKDIR /app", 0.0), ("RUN pip install", 9.0)]
    assert m.steps[0].cached is None and m.steps[0].cached_text() == "2/3 runs"
    assert m.steps[1].cached is False and m.steps[1].cached_text() == "ran"
    assert m.overhead == pytest.approx(3.0)


def test_median_build_of_nothing():
    assert median_build([]).seconds == 0.0


def test_from_is_shown_as_base():
    m = median_build([_build(1.0, ("FROM python:3.10-slim", False, 0.0))])
    assert m.steps[0].cached_text() == "base"


# ---------------------------------------------------------------- cross-check
def _pred(stage, kind, instruction, status, onbuild=False, base_stage=None):
    return SimpleNamespace(stage=stage, kind=kind, instruction=instruction, status=status,
                           onbuild=onbuild, base_stage=base_stage)  # fmt: skip


def _eng(stage, index, instruction, cached):
    return SimpleNamespace(stage=stage, index=index, instruction=instruction, cached=cached)


PREDICTED = [
    _pred(0, "from", "FROM python:3.10-slim", "cached"),
    _pred(0, "workdir", "WORKDIR /app", "cached"),
    _pred(0, "add", "ADD . /app", "rebuilt"),
    _pred(0, "run", "RUN pip install -r requirements.txt", "rebuilt"),
    _pred(0, "metadata", 'CMD ["python", "app.py"]', "metadata"),
]


def test_crosscheck_buildkit_agrees():
    engine = [
        _eng(None, 1, "FROM docker.io/library/python:3.10-slim", False),
        _eng(None, 2, "WORKDIR /app", True),
        _eng(None, 3, "ADD . /app", False),
        _eng(None, 4, "RUN pip install -r requirements.txt", False),
    ]
    pairs = pair_steps(PREDICTED, engine, "buildkit")
    assert [(p.instruction, p.predicted, p.engine) for p in pairs] == [
        ("WORKDIR /app", True, True),
        ("ADD . /app", False, False),
        ("RUN pip install -r requirements.txt", False, False),
    ]
    assert disagreements(PREDICTED, engine, "buildkit") == []
    p, e = compare(PREDICTED, engine, "buildkit")
    assert p == e


def test_crosscheck_buildkit_disagreement_is_described():
    engine = [
        _eng(None, 2, "WORKDIR /app", True),
        _eng(None, 3, "ADD . /app", False),
        _eng(None, 4, "RUN pip install -r requirements.txt", True),
    ]
    (d,) = disagreements(PREDICTED, engine, "buildkit")
    assert d.instruction == "RUN pip install -r requirements.txt"
    assert d.describe() == "RUN pip install -r requirements.txt: explain predicted REBUILD, the engine did CACHED"


def test_crosscheck_legacy_in_order_with_config_steps_and_missing_ones():
    engine = [
        _eng(None, 1, "FROM python:3.10-slim", False),
        _eng(None, 2, "WORKDIR /app", True),
        _eng(None, 3, "ADD . /app", False),
    ]
    pairs = pair_steps(PREDICTED, engine, "legacy")
    assert [(p.predicted, p.engine) for p in pairs] == [(True, True), (False, False), (False, None), (False, None)]
    assert [d.instruction for d in disagreements(PREDICTED, engine, "legacy")] == [
        "RUN pip install -r requirements.txt",
        'CMD ["python", "app.py"]',  # the legacy builder runs config instructions as steps
    ]
    assert "no such step" in disagreements(PREDICTED, engine, "legacy")[0].describe()


def test_crosscheck_buildkit_stage_names_and_from_stage():
    pred = [
        _pred("builder", "from", "FROM python:3.11 AS builder", "cached"),
        _pred("builder", "run", "RUN make", "cached"),
        _pred(1, "from", "FROM builder", "cached", base_stage=0),
        _pred(1, "copy", "COPY . .", "rebuilt"),
    ]
    engine = [_eng("builder", 2, "RUN make", True), _eng("stage-1", 1, "COPY . .", False)]
    assert disagreements(pred, engine, "buildkit") == []


def test_crosscheck_buildkit_shared_steps_printed_once():
    """Stages that start alike share their first steps; BuildKit prints each shared one once,
    under either stage's name: the other stage's steps agree with it, nothing is missing."""
    pred = [
        _pred("one", "from", "FROM busybox AS one", "cached"),
        _pred("one", "workdir", "WORKDIR /w", "cached"),
        _pred("one", "copy", "COPY a.txt .", "rebuilt"),
        _pred("two", "from", "FROM busybox  as  two", "cached"),
        _pred("two", "workdir", "WORKDIR  /w", "cached"),
        _pred("two", "copy", "COPY b.txt .", "cached"),
    ]
    for shown in ("one", "two"):
        engine = [_eng(shown, 2, "WORKDIR /w", True), _eng("one", 3, "COPY a.txt .", False),
                  _eng("two", 3, "COPY b.txt .", True)]  # fmt: skip
        pairs = pair_steps(pred, engine, "buildkit")
        assert sorted((p.key, p.predicted, p.engine) for p in pairs) == [
            (("one", 2), True, True), (("one", 3), False, False), (("two", 2), True, True), (("two", 3), True, True)
        ]  # fmt: skip
        p, e = compare(pred, engine, "buildkit")
        assert p == e
    # a step the engine printed for neither stage is still missing
    engine = [_eng("one", 3, "COPY a.txt .", False), _eng("two", 3, "COPY b.txt .", True)]
    assert {d.key for d in disagreements(pred, engine, "buildkit")} == {("one", 2), ("two", 2)}


@pytest.mark.parametrize("differs", [
    ("FROM busybox:1.36 AS two", "WORKDIR /w"),  # another base
    ("FROM busybox AS two", "WORKDIR /x"),  # another step
])  # fmt: skip
def test_crosscheck_buildkit_stages_that_differ_share_nothing(differs):
    pred = [
        _pred("one", "from", "FROM busybox AS one", "cached"),
        _pred("one", "workdir", "WORKDIR /w", "cached"),
        _pred("two", "from", differs[0], "cached"),
        _pred("two", "workdir", differs[1], "cached"),
    ]
    (d,) = disagreements(pred, [_eng("one", 2, "WORKDIR /w", True)], "buildkit")
    assert d.key == ("two", 2) and d.engine is None


def test_crosscheck_buildkit_an_env_before_the_step_makes_it_another_vertex():
    pred = [
        _pred("one", "from", "FROM busybox AS one", "cached"),
        _pred("one", "run", "RUN make", "cached"),
        _pred("two", "from", "FROM busybox AS two", "cached"),
        _pred("two", "metadata", "ENV A=1", "metadata"),
        _pred("two", "run", "RUN make", "cached"),
    ]
    (d,) = disagreements(pred, [_eng("one", 2, "RUN make", True)], "buildkit")
    assert d.key == ("two", 2)


@pytest.mark.parametrize(("one", "two", "shared"), [
    # pdm-telegram-bot (issue 13): an ENV changes the image config, not the chain
    (["ENV A=1", "WORKDIR /app"], ["WORKDIR /app"], True),
    (["ENV A=1", "LABEL x=y", "COPY r.txt /app/"], ["COPY r.txt /app/"], True),
    (["USER 1000", "WORKDIR /app"], ["WORKDIR /app"], False),  # the mkdir is made as the user
    (["ENV D=/app", "WORKDIR $D"], ["WORKDIR $D"], False),  # expanded in another environment
    (["WORKDIR /src", "WORKDIR /"], ["COPY r.txt r.txt"], False),  # another chain
    (["WORKDIR /", "COPY r.txt r.txt"], ["COPY r.txt r.txt"], True),  # WORKDIR / makes no vertex
    (["WORKDIR /app", "WORKDIR ..", "COPY r.txt r.txt"], ["WORKDIR /app", "WORKDIR /", "COPY r.txt r.txt"], True),
    (["WORKDIR /app", "WORKDIR /", "COPY r.txt r.txt"], ["WORKDIR /app", "COPY r.txt r.txt"], False),  # /r.txt, /app/r.txt
    (["SHELL [\"/bin/sh\", \"-ec\"]", "RUN make"], ["RUN make"], False),
    (["USER 1000", "RUN make"], ["RUN make"], False),
])  # fmt: skip
def test_crosscheck_buildkit_pairs_a_step_with_the_vertex_buildkit_shares(one, two, shared):
    """Two stages on one base: the last step of each is one vertex exactly when the chains and
    operations are equal (tests/engine/test_crosscheck_dedup.py checks these on the engine)."""
    kind = {"ENV": "metadata", "LABEL": "metadata", "USER": "metadata", "SHELL": "metadata"}

    def steps(stage, lines):
        out = [_pred(stage, "from", f"FROM busybox AS {stage}", "cached")]
        for line in lines:
            k = kind.get(line.split()[0], line.split()[0].lower())
            if line in ("WORKDIR /", "WORKDIR .."):
                k = "metadata"  # explain: WORKDIR / makes no BuildKit step
            out.append(_pred(stage, k, line, "metadata" if k == "metadata" else "cached"))
        return out

    pred = steps("one", one) + steps("two", two)
    n_one = sum(1 for p in pred if p.stage == "one" and p.status == "cached" and p.kind != "from") + 1
    n_two = sum(1 for p in pred if p.stage == "two" and p.status == "cached" and p.kind != "from") + 1
    engine = [_eng("one", i, p.instruction, True) for i, p in enumerate([p for p in pred if p.stage == "one" and p.status == "cached"], 1) if i > 1]
    engine += [_eng("two", i, p.instruction, True) for i, p in enumerate([p for p in pred if p.stage == "two" and p.status == "cached"], 1) if 1 < i < n_two]
    missing = [d.key for d in disagreements(pred, engine, "buildkit")]
    assert missing == ([] if shared else [("two", n_two)]), missing
    assert (("two", n_two) in shared_step_stages(pred)) == shared and n_one > 1


def test_crosscheck_buildkit_from_an_image_spelled_two_ways_and_from_a_stage():
    from layerwise.engine.crosscheck import _vertex_keys

    a = [_pred(0, "from", "FROM busybox", "cached"), _pred(0, "workdir", "WORKDIR /w", "cached")]
    b = [_pred(1, "from", "FROM docker.io/library/busybox:latest AS b", "cached"), _pred(1, "workdir", "WORKDIR /w", "cached")]
    c = [_pred(2, "from", "FROM busybox:1.36", "cached"), _pred(2, "workdir", "WORKDIR /w", "cached")]
    # FROM <stage> goes on from that stage's chain and settings (its USER makes the mkdir)
    d = [_pred(3, "from", "FROM busybox AS base", "cached"), _pred(3, "metadata", "USER 1000", "metadata"),
         _pred(4, "from", "FROM base", "cached", base_stage=3), _pred(4, "workdir", "WORKDIR /w", "cached")]  # fmt: skip
    keys = _vertex_keys(a + b + c + d)
    assert keys[1] == keys[3] and keys[1] != keys[5] and keys[9] not in (keys[1], keys[5])
    assert keys[9] == _vertex_keys([_pred(0, "from", "FROM busybox", "cached"), _pred(0, "metadata", "USER 1000", "metadata"),
                                    _pred(0, "workdir", "WORKDIR /w", "cached")])[2]  # fmt: skip


@pytest.mark.parametrize("builder", ["buildkit", "legacy"])
def test_crosscheck_on_real_engine_output_of_shared_steps(tmp_path, builder):
    """explain's prediction for the rebuild of tests/unit/data/engine_output/*_dedup_* (a.txt
    changed) against what the engine printed: all agree (BuildKit printed WORKDIR /w once)."""
    from layerwise.analyses.explain import explain
    from layerwise.bench.run import context_files
    from layerwise.engine.output import parse_build_output
    from layerwise.parse import parse_bytes
    from layerwise.resolve.stages import resolve
    from tests.unit.test_engine_output import DATA, DEDUP_DOCKERFILE

    (tmp_path / "Dockerfile").write_text(DEDUP_DOCKERFILE)
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "b.txt").write_text("b\n")
    before = context_files(tmp_path, tmp_path / "Dockerfile", builder, stat_cache=False).copy()
    (tmp_path / "a.txt").write_text("a changed\n")
    after = context_files(tmp_path, tmp_path / "Dockerfile", builder, stat_cache=False)
    build = resolve(parse_bytes(DEDUP_DOCKERFILE.encode(), "Dockerfile"))
    predicted = explain(build, before, build, after, builder=builder)
    engine = parse_build_output((DATA / f"modern_{builder}_dedup_rebuild.log").read_text()).steps
    pairs = pair_steps(predicted.steps, engine, builder)
    assert [p.describe() for p in pairs if not p.agrees] == []
    workdirs = [p for p in pairs if p.instruction == "WORKDIR /w"]
    assert len(workdirs) == 2 and all(p.engine is True for p in workdirs)


# ---------------------------------------------------------------- plan, floor, context copy
@pytest.mark.parametrize(
    ("dockerfile", "floor"),
    [
        ("FROM python:3.10-slim\nWORKDIR /app\nADD . /app\nRUN pip install -r r.txt\nCMD x\n",
         "FROM python:3.10-slim\nWORKDIR /app\nADD . /app\n"),
        ("ARG V=3.11\nFROM python:$V AS b\nRUN x\nFROM python:$V\nENV A=1\nCOPY r .\nRUN pip\n"
         "COPY --from=b /x /y\nCOPY . \\\n  .\nUSER app\n",
         "ARG V=3.11\nFROM python:$V\nENV A=1\nCOPY . \\\n  .\nUSER app\n"),
        ("FROM python:3.11 AS b\nCOPY . .\nFROM b\nRUN x\nCOPY . .\n", None),
        ("FROM python:3.11\nRUN x\n", None),
    ],
)
def test_floor_dockerfile(dockerfile, floor):
    assert floor_dockerfile(dockerfile) == floor


def _project(tmp_path, name="flask-demo"):
    import shutil

    dst = tmp_path / name
    shutil.copytree(EXAMPLES / name, dst)
    return dst


def test_make_plan_fixed_and_floor(tmp_path):
    ctx = _project(tmp_path)
    notes: list[str] = []
    plan = make_plan(ctx, fixed=True, floor=True, runs=2, notes=notes)
    assert plan.change == "app.py" and plan.runs == 2 and notes == []
    before, after = plan.variants
    assert before.in_place and before.dockerfile == (ctx / "Dockerfile").read_text()
    assert not after.in_place
    assert after.dockerfile.index("COPY requirements.txt") < after.dockerfile.index("RUN pip install")
    assert ".dockerignore" in after.files
    assert plan.floor is not None and "RUN" not in plan.floor.dockerfile
    assert not (ctx / ".dockerignore").exists()  # nothing written


def test_make_plan_against_and_change(tmp_path):
    ctx = _project(tmp_path)
    alt = tmp_path / "Dockerfile.alt"
    alt.write_text("FROM python:3.10-slim\nCOPY . .\n")
    (ctx / "lib.py").write_text("x = 1\n")
    plan = make_plan(ctx, against=alt, change=str(ctx / "lib.py"))
    assert [v.name for v in plan.variants] == ["before", "after"]
    assert plan.variants[1].dockerfile == alt.read_text() and plan.change == "lib.py"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fixed": True, "against": "x"}, "give one"),
        ({"change": "nope.py"}, "--change"),
        ({"runs": 0}, "--runs"),
        ({"against": "/nonexistent/Dockerfile"}, "no such Dockerfile"),
    ],
)
def test_make_plan_errors(tmp_path, kwargs, message):
    ctx = _project(tmp_path)
    with pytest.raises(LayerwiseError, match=message):
        make_plan(ctx, **kwargs)


def test_make_plan_default_change_skips_ignored_files(tmp_path):
    ctx = tmp_path / "p"
    (ctx / "tests").mkdir(parents=True)
    (ctx / "tests" / "a.py").write_text("")
    (ctx / "worker.py").write_text("")
    (ctx / ".dockerignore").write_text("worker.py\n")
    (ctx / "Dockerfile").write_text("FROM python:3.11\nCOPY . .\n")
    assert make_plan(ctx).change == "tests/a.py"


def test_copy_context_leaves_out_what_dockerignore_excludes(tmp_path):
    src = tmp_path / "src"
    (src / ".git").mkdir(parents=True)
    (src / ".git" / "HEAD").write_text("x")
    (src / "app.py").write_text("x")
    (src / "notes.txt").write_text("x")
    (src / "Dockerfile").write_text("FROM x\n")
    (src / ".dockerignore").write_text(".git\n*.txt\nDockerfile\n")
    dst = tmp_path / "dst"
    copy_context(src, dst, src / "Dockerfile", "buildkit")
    assert sorted(p.name for p in dst.iterdir()) == [".dockerignore", "Dockerfile", "app.py"]



def test_bench_without_an_engine_is_a_clear_error(tmp_path, monkeypatch, capsys):
    from layerwise.bench import engines
    from layerwise.cli import main

    monkeypatch.setattr(engines, "_user_docker", lambda: (None, "`docker info` failed: no daemon"))
    monkeypatch.setattr(engines, "find_engine", lambda: (None, "no engine installed in /x"))
    ctx = _project(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["bench", str(ctx), "--fixed", "-o", str(tmp_path / "b.svg")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("layerwise: error: no Docker engine: `docker info` failed: no daemon; no engine installed")
    assert "install-engine.sh" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "b.svg").exists()


@pytest.mark.parametrize(
    ("builder", "options"),
    [
        ("buildkit", {"builder": "buildkit", "build_args": {}, "target": None}),
        ("legacy", {"builder": "legacy", "build_args": {}, "target": None}),
        ("ci-builder", {"builder": "buildkit", "network": None, "extra_args": ("--builder", "ci-builder", "--load"),
                        "build_args": {}, "target": None}),
    ],
)
def test_named_buildx_builder(tmp_path, builder, options):
    plan = make_plan(_project(tmp_path), builder=builder)
    assert plan.build_options() == options
    assert plan.builder == options["builder"]


def test_remove_built_images_spares_images_with_other_tags():
    from layerwise.bench.run import remove_built_images

    class FakeEngine:
        def __init__(self):
            self.images = {"sha256:a": ["layerwise-bench-s:before"], "sha256:b": ["myapp:latest"], "sha256:c": []}
            self.removed: list[str] = []

        def inspect_image(self, ref):
            return {"RepoTags": self.images[ref]} if ref in self.images else None

        def remove_image(self, ref, force=True):
            assert force is False
            self.removed.append(ref)
            for tags in self.images.values():
                if ref in tags:
                    tags.remove(ref)
                    return True
            self.images.pop(ref, None)
            return True

    eng = FakeEngine()
    remove_built_images(eng, ["sha256:c", "sha256:a", "layerwise-bench-s:before", "sha256:b"], "layerwise-bench-s:")
    assert eng.removed == ["layerwise-bench-s:before", "sha256:a", "sha256:c"]
    assert "sha256:b" in eng.images  # the user's image stays


@pytest.mark.parametrize("name", ["flask-demo", "data-api"])
def test_bundled_examples_copy_the_code_before_the_install_and_fix_reorders(tmp_path, name):
    ctx = _project(tmp_path, name)
    text = (ctx / "Dockerfile").read_text()
    assert text.index(" . ") < text.index("RUN pip install")  # the cache-unfriendly pattern
    plan = make_plan(ctx, fixed=True)
    fixed = plan.variants[1].dockerfile
    assert fixed.index("COPY requirements.txt") < fixed.index("RUN pip install") < fixed.index(" . ")
    assert plan.change == "app.py"


def test_data_api_pins_a_heavy_dependency_set():
    reqs = (EXAMPLES / "data-api" / "requirements.txt").read_text().split()
    names = {r.split("==")[0] for r in reqs}
    assert {"numpy", "pandas", "scikit-learn"} <= names and all("==" in r for r in reqs)


def test_build_args_and_target_reach_the_builds(tmp_path):
    notes: list[str] = []
    plan = make_plan(_project(tmp_path), build_args={"V": "1"}, target="app", floor=True, notes=notes)
    assert plan.build_options()["build_args"] == {"V": "1"} and plan.build_options()["target"] == "app"
    assert plan.floor is None and "no floor build with --target" in notes[0]


@pytest.mark.parametrize(("text", "why"), [
    ("FROM --platform=linux/amd64 python:3.12 AS b\nCOPY --from=b --chown=1:1 --link a /a\n"
     "ADD --checksum=sha256:00 https://x/y /y\nRUN pip install x\n", None),
    ("FROM x\nRUN --mount=type=cache,target=/c pip install y\n",
     'line 2: RUN --mount needs BuildKit ("the --mount option requires BuildKit")'),
    ("FROM x\n\nCOPY --chmod=600 a /a\n", 'line 3: COPY --chmod needs BuildKit ("the --chmod option requires BuildKit")'),
    ("FROM x\nCOPY --exclude=*.md . .\n", "line 2: COPY --exclude is a flag it does not know (dockerfile parse error)"),
    ("FROM x\nRUN <<EOF\necho hi\nEOF\n",
     "line 2: RUN <<EOF (a heredoc) needs BuildKit: it drops the heredoc's body and runs only the RUN line"),
    ("FROM --platform=$BUILDPLATFORM x\n", 'line 1: FROM --platform=$BUILDPLATFORM: it does not set BUILDPLATFORM '
                                          '("failed to parse platform")'),
    # only the stages the target builds reach a refusal of a known flag
    ("FROM x AS app\nRUN true\nFROM x AS other\nRUN --mount=type=cache,target=/c true\n", None),
])  # fmt: skip
def test_legacy_blocker(text, why):
    """What Docker's legacy builder refuses: analyses.cache.legacy_unsupported's first reason,
    engine-tested there (dockerd 26.1: --chmod and RUN flags "require BuildKit", --exclude is
    an unknown flag; --link and --checksum are accepted)."""
    from layerwise.bench.engines import legacy_blocker

    assert legacy_blocker(text, target="app" if "AS app" in text else None) == why


def test_a_shared_step_is_filed_under_one_stage_whatever_name_the_engine_printed():
    """The captured builds printed WORKDIR /w under "two" (cold) and "one" (rebuild): bench
    files both under "one", so the medians over runs match them up."""
    from layerwise.analyses.explain import explain
    from layerwise.bench.run import _step_times
    from layerwise.engine.crosscheck import shared_step_stages
    from layerwise.engine.output import parse_build_output
    from layerwise.parse import parse_bytes
    from layerwise.resolve.stages import resolve
    from tests.unit.test_engine_output import DATA, DEDUP_DOCKERFILE

    build = resolve(parse_bytes(DEDUP_DOCKERFILE.encode(), "Dockerfile"))
    predicted = explain(build, {}, build, {}, builder="buildkit")
    shared = shared_step_stages(predicted.steps)
    assert shared == {("one", 2): "one", ("two", 2): "one"}
    for log in ("first", "rebuild"):
        result = SimpleNamespace(steps=parse_build_output((DATA / f"modern_buildkit_dedup_{log}.log").read_text()).steps)
        workdir = [(t.stage, t.index) for t in _step_times(result, shared) if t.instruction == "WORKDIR /w"]
        assert workdir == [("one", 2)]


def test_a_step_explain_said_may_come_from_the_cache_is_no_disagreement_when_it_does():
    """explain: REBUILD unless the re-run RUN writes the same bytes (StepReport.may_be_cached);
    the engine took it from the cache: the cross-check says so, and does not fail."""
    from layerwise.bench.results import BuildTime, Run

    pred = [
        _pred("builder", "from", "FROM python:3.12-slim AS builder", "cached"),
        _pred("builder", "run", "RUN pip wheel -w /w -r r.txt", "rebuilt"),
        _pred(1, "from", "FROM python:3.12-slim", "cached"),
        SimpleNamespace(stage=1, kind="copy", instruction="COPY --from=builder /w /w", status="rebuilt",
                        onbuild=False, base_stage=None, may_be_cached=True),
        _pred(1, "run", "RUN pip install /w/*", "rebuilt"),
    ]  # fmt: skip
    engine = [_eng("builder", 2, "RUN pip wheel -w /w -r r.txt", False), _eng("stage-1", 2, "COPY --from=builder /w /w", True),
              _eng("stage-1", 3, "RUN pip install /w/*", True)]  # fmt: skip
    pairs = pair_steps(pred, engine, "buildkit")
    by = {p.instruction: p for p in pairs}
    copy, install = by["COPY --from=builder /w /w"], by["RUN pip install /w/*"]
    assert copy.hedge_held and not copy.agrees
    assert copy.describe() == ("COPY --from=builder /w /w: explain predicted REBUILD (or CACHED if a re-run RUN"
                               " writes the same bytes), the engine did CACHED")  # fmt: skip
    assert not install.hedge_held  # explain did not hedge this one: a real disagreement
    run = Run(BuildTime(1.0, []), BuildTime(1.0, []), pairs)
    assert run.disagreements == [install] and run.hedges_held == [copy]
    # a hedge the engine did not need (it rebuilt) agrees as usual
    rebuilt = next(p for p in pair_steps(pred, [*engine[:1], _eng("stage-1", 2, "COPY --from=builder /w /w", False)], "buildkit")
                   if p.instruction == "COPY --from=builder /w /w")
    assert rebuilt.agrees and not rebuilt.hedge_held
