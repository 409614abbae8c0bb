"""Parsing of ``docker build`` output, on output captured from real engines.

Samples in data/engine_output/ were printed by the harness engines:
``modern_*``: Debian 13 docker.io 26.1.5 (BuildKit v0.13, legacy builder);
``fallback20_*``: Debian 12 docker.io 20.10.24 (BuildKit v0.8). Scenarios:
article (bundled flask-demo: WORKDIR, ADD . /app, RUN pip), optimized (the
article's fixed Dockerfile), multistage (a named builder stage + COPY --from),
failing_run (RUN exit 3), dedup (two stages that start with the same ``FROM busybox`` +
``WORKDIR /w``, which BuildKit runs and prints once: DEDUP_DOCKERFILE). ``*_rebuild`` follows
``*_first`` after an edit (app.py string; a.txt for multistage and dedup) in the same daemon.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from layerwise.engine.output import (
    detect_format,
    parse_build_output,
    parse_buildkit_output,
    parse_legacy_output,
)

DATA = Path(__file__).parent / "data" / "engine_output"
ENGINES = ["modern", "fallback20"]


def load(name: str) -> str:
    return (DATA / f"{name}.log").read_text()


def statuses(parsed):
    return [(s.stage, s.index, s.instruction.split(" ", 1)[0], s.status) for s in parsed.steps]


# ---------------------------------------------------------------- BuildKit


@pytest.mark.parametrize("eng", ENGINES)
def test_buildkit_article_rebuild_reruns_pip(eng):
    p = parse_build_output(load(f"{eng}_buildkit_article_rebuild"))
    assert p.format == "buildkit"
    assert [(s.index, s.total, s.instruction) for s in p.steps] == [
        (1, 4, "FROM docker.io/library/python:3.10-slim"),
        (2, 4, "WORKDIR /app"),
        (3, 4, "ADD . /app"),
        (4, 4, "RUN pip install -r requirements.txt"),
    ]
    assert [s.status for s in p.steps[1:]] == ["cached", "done", "done"]
    pip = p.steps[3]
    assert pip.seconds is not None and pip.seconds > 0
    assert p.steps[1].seconds is None  # CACHED carries no time
    assert all(s.stage is None for s in p.steps)
    assert p.error is None


def test_buildkit_first_build_keeps_step_output():
    p = parse_buildkit_output(load("modern_buildkit_article_first"))
    pip = p.steps[3]
    assert pip.status == "done" and pip.ran and not pip.cached
    assert pip.output[0] == "Collecting flask==2.3.2"  # time offset stripped
    assert any(line.startswith("Successfully installed") for line in pip.output)
    assert p.image_id and p.image_id.startswith("sha256:")


@pytest.mark.parametrize("eng", ENGINES)
def test_buildkit_optimized_rebuild_keeps_pip_cached(eng):
    p = parse_build_output(load(f"{eng}_buildkit_optimized_rebuild"))
    got = {s.instruction: s.status for s in p.steps}
    assert got["COPY requirements.txt ./"] == "cached"
    assert got["RUN pip install --no-cache-dir -r requirements.txt"] == "cached"
    assert got["COPY . ."] == "done"
    # CMD changes only the config: BuildKit reports no step for it.
    assert not any(s.keyword == "CMD" for s in p.steps)


def test_buildkit_steps_put_in_dockerfile_order():
    # The engine printed [3/5] before [2/5] (cache hits resolve in any order).
    text = load("modern_buildkit_optimized_rebuild")
    assert text.index("[3/5] COPY") < text.index("[2/5] WORKDIR")
    p = parse_build_output(text)
    assert [s.index for s in p.steps] == [1, 2, 3, 4, 5]
    assert [s.vertex for s in p.steps][:3] != sorted([s.vertex for s in p.steps][:3])


@pytest.mark.parametrize("eng", ENGINES)
def test_buildkit_multistage(eng):
    p = parse_build_output(load(f"{eng}_buildkit_multistage_rebuild"))
    assert statuses(p) == [
        ("builder", 1, "FROM", "cached"),
        ("builder", 2, "WORKDIR", "cached"),
        ("builder", 3, "COPY", "done"),
        ("builder", 4, "RUN", "done"),
        # stage-1's FROM is the same vertex as builder's: printed once.
        ("stage-1", 2, "COPY", "done"),
        ("stage-1", 3, "RUN", "done"),
    ]


@pytest.mark.parametrize(
    "eng,message",
    [
        ("modern", 'failed to solve: process "/bin/sh -c echo failing here && exit 3" '
                   "did not complete successfully: exit code: 3"),
        ("fallback20", "executor failed running [/bin/sh -c echo failing here && exit 3]: exit code: 3"),
    ],
)
def test_buildkit_failing_run(eng, message):
    p = parse_build_output(load(f"{eng}_buildkit_failing_run"))
    assert [s.status for s in p.steps] == ["cached", "done", "error"]
    bad = p.steps[2]
    assert bad.instruction == "RUN echo failing here && exit 3"
    assert "exit code: 3" in bad.error
    assert bad.output == ["failing here"]
    assert p.error == message


def test_buildkit_v08_digest_lines_are_not_output():
    p = parse_build_output(load("fallback20_buildkit_article_first"))
    assert p.format == "buildkit"
    assert not any(line.startswith("sha256:") for s in p.steps for line in s.output)


def test_buildkit_interleaved_and_canceled_synthetic():
    text = "\n".join([
        "#5 [a 1/2] FROM docker.io/library/busybox:latest",
        "#5 DONE 0.0s",
        "#6 [a 2/2] RUN sleep 1",
        "#7 [b 2/2] RUN false",
        "#6 0.1 working",
        "#7 ERROR: process \"/bin/sh -c false\" did not complete successfully: exit code: 1",
        "#6 [a 2/2] RUN sleep 1",
        "#6 CANCELED",
        "ERROR: failed to solve: process \"/bin/sh -c false\" did not complete successfully: exit code: 1",
    ])
    p = parse_buildkit_output(text)
    assert statuses(p) == [("a", 1, "FROM", "done"), ("a", 2, "RUN", "canceled"), ("b", 2, "RUN", "error")]
    assert p.steps[1].output == ["working"]
    assert p.error.startswith("failed to solve")


def test_buildkit_platform_prefixed_stage_synthetic():
    p = parse_buildkit_output("#4 [linux/arm64 builder 2/3] RUN make\n#4 CACHED\n")
    assert statuses(p) == [("linux/arm64 builder", 2, "RUN", "cached")]


# ---------------------------------------------------------------- legacy


@pytest.mark.parametrize("eng", ENGINES)
def test_legacy_article_rebuild_reruns_pip(eng):
    p = parse_build_output(load(f"{eng}_legacy_article_rebuild"))
    assert p.format == "legacy"
    assert statuses(p) == [
        (None, 1, "FROM", "done"),
        (None, 2, "WORKDIR", "cached"),
        (None, 3, "ADD", "done"),
        (None, 4, "RUN", "done"),
        (None, 5, "CMD", "done"),
    ]
    assert p.steps[3].instruction == "RUN pip install -r requirements.txt"
    assert all(s.seconds is None for s in p.steps)  # no line times given
    assert p.image_id and p.error is None


@pytest.mark.parametrize("eng", ENGINES)
def test_legacy_optimized_rebuild(eng):
    p = parse_build_output(load(f"{eng}_legacy_optimized_rebuild"))
    assert [s.status for s in p.steps] == ["done", "cached", "cached", "cached", "done", "done"]
    assert p.steps[4].instruction == "COPY . ."


def test_legacy_first_build_output_lines():
    p = parse_legacy_output(load("modern_legacy_article_first"))
    pip = p.steps[3]
    assert pip.output[0] == "Collecting flask==2.3.2"
    assert not any("intermediate container" in line for s in p.steps for line in s.output)


@pytest.mark.parametrize("eng", ENGINES)
def test_legacy_multistage_stage_names(eng):
    p = parse_build_output(load(f"{eng}_legacy_multistage_rebuild"))
    assert [s.stage for s in p.steps] == ["builder"] * 4 + ["stage-1"] * 4
    assert [s.index for s in p.steps] == list(range(1, 9))
    assert [s.status for s in p.steps] == ["done", "cached", "done", "done", "done", "cached", "done", "done"]


@pytest.mark.parametrize("eng", ENGINES)
def test_legacy_failing_run(eng):
    p = parse_build_output(load(f"{eng}_legacy_failing_run"))
    assert [s.status for s in p.steps] == ["done", "done", "error"]
    assert p.error == "The command '/bin/sh -c echo failing here && exit 3' returned a non-zero code: 3"
    assert p.steps[2].output == ["failing here"]


def test_legacy_durations_from_line_times():
    text = load("modern_legacy_article_rebuild")
    lines = text.splitlines()
    times = [float(i) for i in range(len(lines))]
    p = parse_legacy_output(lines, times)
    starts = [i for i, line in enumerate(lines) if line.startswith("Step ")]
    assert [s.seconds for s in p.steps[:-1]] == [float(b - a) for a, b in itertools.pairwise(starts)]
    built = next(i for i, line in enumerate(lines) if line.startswith("Successfully built"))
    assert p.steps[-1].seconds == float(built - starts[-1])


def test_legacy_copy_failure_synthetic():
    text = "Step 1/2 : FROM busybox:latest\n ---> 7084b17b41aa\nStep 2/2 : COPY nope /x\n" \
           "COPY failed: file not found in build context or excluded by .dockerignore: stat nope: file does not exist\n"
    p = parse_build_output(text)
    assert p.steps[1].status == "error"
    assert p.error.startswith("COPY failed")


# ---------------------------------------------------------------- detection


DEDUP_DOCKERFILE = """FROM busybox AS one
WORKDIR /w
COPY a.txt .
RUN cat a.txt > one.out

FROM busybox AS two
WORKDIR /w
COPY b.txt .
RUN cat b.txt > two.out

FROM busybox
COPY --from=one /w/one.out /
COPY --from=two /w/two.out /
"""


@pytest.mark.parametrize(("log", "printed_under"), [("first", "two"), ("rebuild", "one")])
def test_buildkit_prints_a_step_two_stages_share_once(log, printed_under):
    p = parse_build_output(load(f"modern_buildkit_dedup_{log}"))
    workdirs = [s for s in p.steps if s.instruction == "WORKDIR /w"]
    assert [(s.stage, s.index) for s in workdirs] == [(printed_under, 2)]  # either stage's name
    assert sorted((s.stage, s.index) for s in p.steps if s.stage in ("one", "two") and s.index > 2) == [
        ("one", 3), ("one", 4), ("two", 3), ("two", 4)]  # fmt: skip


def test_legacy_prints_every_step_of_every_stage():
    p = parse_build_output(load("modern_legacy_dedup_rebuild"))
    assert [(s.stage, s.instruction) for s in p.steps if s.instruction == "WORKDIR /w"] == [
        ("one", "WORKDIR /w"), ("two", "WORKDIR /w")]  # fmt: skip


def test_detect_format():
    assert detect_format(load("modern_buildkit_article_first").splitlines()) == "buildkit"
    assert detect_format(load("modern_legacy_article_first").splitlines()) == "legacy"
    assert detect_format(["error during connect: no such host"]) == "unknown"
    p = parse_build_output("Cannot connect to the Docker daemon at unix:///x.sock\n")
    assert p.format == "unknown" and p.steps == [] and p.error.startswith("Cannot connect")


@pytest.mark.parametrize("name", sorted(p.stem for p in DATA.glob("*.log")))
def test_every_sample_parses_completely(name):
    p = parse_build_output(load(name))
    assert p.format == ("buildkit" if "_buildkit_" in name else "legacy")
    assert p.steps
    assert all(s.status != "unknown" for s in p.steps), [s.short() for s in p.steps]
    assert (p.error is not None) == name.endswith("failing_run")


def test_buildkit_step_numbers_padded_to_the_total():
    """With ten steps or more BuildKit pads the number: ``[ 3/10]``, ``[builder  3/10]``
    (captured: a 10-step rebuild after a code change, 26.1.5)."""
    p = parse_buildkit_output(load("modern_buildkit_ten_steps_rebuild"))
    assert [(s.index, s.total) for s in p.steps] == [(i, 10) for i in range(1, 11)]
    assert [s.status for s in p.steps][1:] == ["cached"] * 8 + ["done"]
    assert all(s.stage is None for s in p.steps)
    p = parse_buildkit_output("#4 [builder  3/12] RUN make\n#4 CACHED\n#5 [linux/amd64 builder 12/12] COPY . .\n#5 DONE 0.1s\n")
    assert statuses(p) == [("builder", 3, "RUN", "cached"), ("linux/amd64 builder", 12, "COPY", "done")]
