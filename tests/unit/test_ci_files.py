"""Reading CI files (layerwise.ci): builds tied to their Dockerfile and inputs with exact
places, expressions kept opaque, and bad input (invalid YAML, alias bombs, huge files, FIFOs,
symlinks out of the repository) giving a located error, never a traceback or a hang."""

from __future__ import annotations

import os
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layerwise.ci import load_ci
from layerwise.ci.github import parse_workflow
from layerwise.ci.gitlab import parse_gitlab
from layerwise.ci.yamlfile import MAX_BYTES, YamlFile


def project(tmp_path, files: dict[str, str]):
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    return load_ci(tmp_path)


WORKFLOW = """
on: push
defaults:
  run:
    working-directory: services/api
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/setup-buildx-action@v3
      - name: Build
        uses: docker/build-push-action@v6
        with:
          context: services/api
          target: prod
          build-args: |
            PYTHON=3.12
            EXTRA=${{ github.sha }}
          cache-from: |
            type=gha,scope=api
          cache-to: |
            type=gha,mode=max,scope=api
      - run: |
          docker build \\
            -f docker/Dockerfile --target test \\
            --cache-from=type=local,src=/tmp/c ..
"""


def test_action_and_run_builds_with_their_places(tmp_path):
    ci = project(tmp_path, {".github/workflows/build.yaml": WORKFLOW, "services/api/Dockerfile": "FROM x\n",
                            "services/api/docker/Dockerfile": "FROM x\n"})
    assert ci.errors == [] and len(ci.builds) == 2
    action, cmd = ci.builds
    assert (action.kind, action.job, action.pos.line, action.pos.column) == ("action", "image", 11, 9)
    assert (action.dockerfile, action.context, action.target) == ("services/api/Dockerfile", "services/api", "prod")
    assert action.build_args == {"PYTHON": "3.12", "EXTRA": "${{ github.sha }}"}
    assert action.exporting_builder
    (frm,) = action.cache_from
    (to,) = action.cache_to
    assert (frm.type, frm.scope, frm.pos.line, frm.pos.column) == ("gha", "api", 19, 13)
    assert (to.mode, to.pos.line) == ("max", 21)
    # the run: step's paths are relative to defaults.run.working-directory
    assert (cmd.kind, cmd.dockerfile, cmd.context, cmd.target) == ("docker-build", "services/api/docker/Dockerfile",
                                                                     "services", "test")  # fmt: skip
    assert (cmd.pos.line, cmd.cache_from[0].type, cmd.cache_from[0].attrs["src"]) == (23, "local", "/tmp/c")


@pytest.mark.parametrize(
    "value", ["${{ matrix.dockerfile }}", "$DOCKERFILE", "/abs/Dockerfile", "../../outside/Dockerfile", "-"]
)
def test_unknown_dockerfile_paths_stay_unknown(tmp_path, value):
    wf = f"on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          file: '{value}'\n"
    ci = project(tmp_path, {".github/workflows/a.yml": wf})
    assert [b.dockerfile for b in ci.builds] == [None]


def test_gitlab_variables_extends_and_default_before_script(tmp_path):
    ci = project(tmp_path, {".gitlab-ci.yml": """
        variables:
          DOCKERFILE: docker/Dockerfile
        default:
          before_script:
            - docker buildx create --use
        .build:
          script:
            - docker buildx build -f $DOCKERFILE --cache-to type=registry,ref=$CI_REGISTRY_IMAGE/cache $CI_PROJECT_DIR
        build-image:
          extends: .build
        .hidden:
          script: [docker build .]
    """})
    (b,) = ci.builds
    assert (b.job, b.dockerfile, b.context, b.exporting_builder) == ("build-image", "docker/Dockerfile", ".", True)
    assert b.cache_to[0].opaque


def test_invalid_yaml_is_a_located_error(tmp_path):
    ci = project(tmp_path, {".github/workflows/bad.yml": "on: push\njobs:\n  a: [1, 2\n"})
    (e,) = ci.errors
    assert e.path.endswith("bad.yml") and e.line >= 3 and e.message.startswith("invalid YAML")


def test_invalid_ci_file_is_reported_by_check_not_raised(tmp_path, capsys):
    from layerwise.cli import main

    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/bad.yml").write_text("jobs: {a: [\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim@sha256:" + "a" * 64 + "\n")
    os.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["check", "--select", "LW6", "."])
    err = capsys.readouterr().err
    assert exc.value.code == 0 and ".github/workflows/bad.yml:2:" in err and "invalid YAML" in err


@pytest.mark.parametrize("text", ["#\n> #", "jobs: {a: [\n"])
def test_text_the_parser_chokes_on_is_a_located_error(text):
    err = YamlFile("ci.yml", text).load()
    assert err is not None and err.message.startswith("invalid YAML") and err.line >= 1


def test_alias_bomb_is_bounded(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 12):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        bomb += f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    gitlab = bomb + "build:\n  script: *l\n"
    ci = project(tmp_path, {".gitlab-ci.yml": gitlab})  # 9**12 scalars if expanded
    assert ci.errors == [] and ci.builds == []


def test_huge_file_refused(tmp_path):
    big = "on: push\n" + "# padding\n" * (MAX_BYTES // 10 + 10)
    ci = project(tmp_path, {".github/workflows/big.yml": big})
    (e,) = ci.errors
    assert "larger than" in e.message and e.line == 1


def test_fifo_and_symlink_out_are_not_read(tmp_path):
    wf = tmp_path / ".github/workflows"
    wf.mkdir(parents=True)
    os.mkfifo(wf / "fifo.yml")  # would block an ordinary open()
    outside = tmp_path.parent / f"{tmp_path.name}-secret.yml"
    outside.write_text("jobs: {}\n")
    os.symlink(outside, wf / "link.yml")
    ci = load_ci(tmp_path)
    assert ci.builds == [] and sorted(os.path.basename(e.path) for e in ci.errors) == ["fifo.yml", "link.yml"]


def test_repository_root_is_found_above_a_subfolder_context(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "services/api").mkdir(parents=True)
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/a.yml").write_text(
        "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: docker/build-push-action@v6\n"
        "        with:\n          context: services/api\n"
    )
    ci = load_ci(tmp_path / "services/api")
    assert ci.root == str(tmp_path) and [b.dockerfile for b in ci.builds] == ["services/api/Dockerfile"]


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(
        ["docker build .", "docker buildx build --cache-to type=gha -f x .", "${{ matrix.x }}",
         "docker/build-push-action@v6", "type=gha,mode=max", "docker build \\\n --no-cache ."]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["jobs", "steps", "uses", "with", "run", "script", "context", "file", "cache-from",
                         "cache-to", "no-cache", "extends", "variables", "strategy", "matrix", "defaults"]),
        children, max_size=4),
    max_leaves=25,
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(yaml_values)
def test_any_structure_parses_without_exceptions(value):
    import io

    from ruamel.yaml import YAML

    buf = io.StringIO()
    YAML(typ="rt", pure=True).dump(value, buf)
    f = YamlFile("ci.yml", buf.getvalue())
    assert f.load() is None
    parse_workflow(f, "ci.yml")
    parse_gitlab(f, "ci.yml")


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab:-[]{}&*!|>'\"\n #$", max_size=80))
def test_any_text_gives_builds_or_a_located_error(text):
    f = YamlFile("ci.yml", text)
    err = f.load()
    if err is None:
        parse_workflow(f, "ci.yml")
        parse_gitlab(f, "ci.yml")
    else:
        assert err.line >= 1 and err.column >= 1


def test_a_build_of_a_dockerfile_that_does_not_exist_is_a_located_error(tmp_path, capsys, monkeypatch):
    from layerwise.cli import main

    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\n")
    wf = ("on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: docker/build-push-action@v6\n"
          "        with:\n          file: docker/Dockerfile.prod\n")
    ci = project(tmp_path, {".github/workflows/a.yml": wf})
    (e,) = ci.errors
    assert (e.line, e.column) == (6, 9) and "docker/Dockerfile.prod does not exist" in e.message
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["check", "--select", "LW6", "."])
    err = capsys.readouterr().err
    assert err.count("docker/Dockerfile.prod does not exist") == 1 and ".github/workflows/a.yml:6:9:" in err
