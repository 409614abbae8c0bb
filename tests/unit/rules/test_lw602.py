import pytest

from tests.unit.rules.ci_helpers import BUILDER, DOCKERFILE, catches, dedent, fixed, passes

CODE = "LW602"
WF = ".github/workflows/ci.yml"


def workflow(cache_to: str) -> str:
    return dedent(f"""
    on: push
    jobs:
      image:
        runs-on: ubuntu-latest
        steps:
          - uses: docker/setup-buildx-action@v3
          - uses: docker/build-push-action@v6
            with:
              push: true
              cache-from: type=gha
              cache-to: {cache_to}
    """)


@pytest.mark.parametrize("cache_to", ["type=gha", "type=gha,mode=min", "type=registry,ref=r/app:cache"])
def test_min_mode_with_install_in_a_builder_stage_that_copies_code(cache_to):
    (f,) = catches(CODE, {WF: workflow(cache_to)}, dockerfile=BUILDER)
    assert f.line == 11 and "line 4" in f.message and "line 5" in f.message
    assert f.related == (("Dockerfile", 4),)


@pytest.mark.parametrize(
    "dockerfile,cache_to",
    [
        (BUILDER, "type=gha,mode=max"),
        (DOCKERFILE, "type=gha"),  # single stage: the install layer is in the final image
        # the builder installs only; the code is copied in the final stage
        ("FROM python:3.12-slim AS deps\nCOPY requirements.txt .\nRUN pip install --no-cache-dir --prefix=/i -r requirements.txt\n"
         "FROM python:3.12-slim\nCOPY --from=deps /i /usr/local\nCOPY . /app\n", "type=gha"),
        (BUILDER, "${{ env.CACHE_TO }}"),
    ],
)
def test_passes(dockerfile, cache_to):
    passes(CODE, {WF: workflow(cache_to)}, dockerfile=dockerfile)


def test_fix_sets_mode_max():
    assert fixed(CODE, {WF: workflow("type=gha")}, WF, dockerfile=BUILDER) == workflow("type=gha,mode=max")
    assert fixed(CODE, {WF: workflow("type=gha,mode=min,scope=x")}, WF, dockerfile=BUILDER) == workflow(
        "type=gha,mode=max,scope=x"
    )


def test_inline_cache_gets_a_hint():
    gitlab = dedent("""
    build:
      script:
        - docker build --cache-from $IMG --build-arg BUILDKIT_INLINE_CACHE=1 -t $IMG .
    """)
    (f,) = catches(CODE, {".gitlab-ci.yml": gitlab}, dockerfile=BUILDER)
    assert f.fix is None and "inline is min only" in f.hint
