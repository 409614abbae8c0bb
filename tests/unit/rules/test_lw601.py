import pytest

from tests.unit.rules.ci_helpers import catches, dedent, fixed, passes, run

CODE = "LW601"
WF = ".github/workflows/ci.yml"

NO_CACHE = """
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/setup-buildx-action@v3
      # the app's image
      - uses: docker/build-push-action@v6
        with:
          context: .
          push: true
          tags: ghcr.io/acme/api:latest
"""

CATCHES = [
    NO_CACHE,
    # no with: at all, default context and Dockerfile
    "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: docker/build-push-action@v6\n",
    # a plain docker build in a run: script
    "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: docker build -t app .\n",
    # working-directory makes `-f Dockerfile` the root one
    "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: docker buildx build -f ../Dockerfile .\n"
    "        working-directory: sub\n",
]
PASSES = [
    NO_CACHE.replace("push: true", "push: true\n          cache-from: type=gha\n          cache-to: type=gha,mode=max"),
    # another Dockerfile: not this one's build
    (NO_CACHE.replace("context: .", "context: .\n          file: other/Dockerfile"), {"other/Dockerfile": "FROM x\n"}),
    # a context that is an expression: unknown, never guessed
    NO_CACHE.replace("context: .", "context: ${{ matrix.dir }}"),
    # inline cache through the build argument counts as an export
    "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n"
    "      - run: docker build --build-arg BUILDKIT_INLINE_CACHE=1 --cache-from app -t app .\n",
    # not a workflow at all
    "just: a YAML file\n",
]


@pytest.mark.parametrize("workflow", CATCHES)
def test_catches(workflow):
    catches(CODE, {WF: dedent(workflow)})


@pytest.mark.parametrize("workflow", PASSES)
def test_passes(workflow):
    workflow, files = workflow if isinstance(workflow, tuple) else (workflow, None)
    passes(CODE, {WF: dedent(workflow)}, files=files)


def test_reports_at_the_step_in_the_workflow():
    (f,) = catches(CODE, {WF: dedent(NO_CACHE)})
    assert (f.path, f.line, f.column) == (WF, 9, 9)
    assert f.related == (("Dockerfile", 1),)


def test_gitlab_docker_in_docker():
    gitlab = """
    build:
      image: docker:27
      services: [docker:27-dind]
      script:
        - docker build -t $CI_REGISTRY_IMAGE:latest .
        - docker push $CI_REGISTRY_IMAGE:latest
    """
    (f,) = catches(CODE, {".gitlab-ci.yml": dedent(gitlab)})
    assert (f.path, f.line) == (".gitlab-ci.yml", 5)
    assert "BUILDKIT_INLINE_CACHE" in f.hint and f.fix is None


def test_fix_adds_cache_inputs_keeping_every_other_byte():
    out = fixed(CODE, {WF: dedent(NO_CACHE)}, WF)
    assert out == dedent(NO_CACHE).replace(
        "        with:\n",
        "        with:\n          cache-from: type=gha,scope=image\n          cache-to: type=gha,mode=max,scope=image\n",
    )


def test_fix_creates_with_and_sets_up_buildx_unsafely_when_the_image_is_not_pushed():
    wf = "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: docker/build-push-action@v6\n"
    (f,) = catches(CODE, {WF: wf})
    assert f.fix.safety == "unsafe"
    assert fixed(CODE, {WF: wf}, WF) == wf  # safe fixes only: nothing
    assert fixed(CODE, {WF: wf}, WF, unsafe=True) == (
        "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n"
        "      - uses: docker/setup-buildx-action@v3\n"
        "      - uses: docker/build-push-action@v6\n"
        "        with:\n"
        "          cache-from: type=gha,scope=b\n"
        "          cache-to: type=gha,mode=max,scope=b\n"
    )


def test_fix_keeps_crlf():
    wf = dedent(NO_CACHE).replace("\n", "\r\n")
    found, _ = run(CODE, {WF: wf})
    (f,) = found
    assert all("\n" not in e.replacement.replace("\r\n", "") for e in f.fix.edits)


def test_matrix_scope_per_entry():
    wf = dedent(NO_CACHE).replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        py: [a, b]")
    out = fixed(CODE, {WF: wf}, WF)
    assert "scope=image-${{ strategy.job-index }}" in out
