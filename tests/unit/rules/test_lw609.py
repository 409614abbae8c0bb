import pytest

from tests.unit.rules.ci_helpers import catches, dedent, passes

CODE = "LW609"
WF = ".github/workflows/ci.yml"
DOCKERFILE = """\
FROM python:3.12-slim
ARG BUILD_COMMIT
ENV APP_BUILD_COMMIT=$BUILD_COMMIT
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
"""
AFTER = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
ARG BUILD_COMMIT
ENV APP_BUILD_COMMIT=$BUILD_COMMIT
COPY . .
"""


def workflow(args: str) -> str:
    return dedent(f"""
    on: push
    jobs:
      image:
        runs-on: ubuntu-latest
        steps:
          - uses: docker/setup-buildx-action@v3
          - uses: docker/build-push-action@v6
            with:
              build-args: |
                {args}
              cache-from: type=gha
              cache-to: type=gha,mode=max
    """)


@pytest.mark.parametrize(("value", "what", "severity"), [
    ("${{ github.sha }}", "the commit's SHA", "warning"),
    ("${{ github.run_number }}", "the run's number", "warning"),
    ("${{ env.BUILD_DATE }}", "a date", "warning"),
    ("${{ steps.prep.outputs.version }}", "the version", "info"),  # once a release: a note
])  # fmt: skip
def test_an_arg_ci_changes_before_the_install(value, what, severity):
    (f,) = catches(CODE, {WF: workflow(f"BUILD_COMMIT={value}")}, dockerfile=DOCKERFILE)
    assert (f.path, f.line, f.severity, f.fix) == ("Dockerfile", 2, severity, None)
    assert f"sets it to {what}" in f.message and "(line 6)" in f.message and f.related == ((WF, 7),)
    assert "after the dependency install" in f.hint


def test_declared_after_the_install_or_set_to_a_value_that_stays():
    passes(CODE, {WF: workflow("BUILD_COMMIT=${{ github.sha }}")}, dockerfile=AFTER)
    passes(CODE, {WF: workflow("BUILD_COMMIT=release")}, dockerfile=DOCKERFILE)
    passes(CODE, {WF: workflow("PYTHON_VERSION=${{ env.PYTHON_VERSION }}")}, dockerfile=DOCKERFILE)
    passes(CODE, {}, dockerfile=DOCKERFILE)  # (no CI build: nothing says what it is set to)
    # an install of the version the argument names must run again (Radicale's image)
    uses = "FROM python:3-alpine\nARG VERSION=master\nRUN pip install --no-cache-dir \"app @ https://x/${VERSION}.tar.gz\"\n"
    passes(CODE, {WF: workflow("VERSION=${{ github.ref_name }}")}, dockerfile=uses)


def test_a_global_arg_reaches_only_from_lines():
    """An ARG before the first FROM, not declared again in the stage, is not in its RUNs'
    environment: the install does not rerun."""
    global_arg = "ARG BUILD_COMMIT\n" + DOCKERFILE.replace("ARG BUILD_COMMIT\nENV APP_BUILD_COMMIT=$BUILD_COMMIT\n", "")
    passes(CODE, {WF: workflow("BUILD_COMMIT=${{ github.sha }}")}, dockerfile=global_arg)


def test_the_stage_that_declares_it_is_the_one_reported():
    """In a builder stage that installs, reported; declared only in the final stage after the
    copy of the builder's packages, not (that stage installs nothing)."""
    builder = ("FROM python:3.12-slim AS builder\nARG GIT_SHA\nCOPY requirements.txt .\n"
               "RUN pip install --prefix=/install -r requirements.txt\n"
               "FROM python:3.12-slim\nCOPY --from=builder /install /usr/local\nARG GIT_SHA\nCOPY . /app\n")  # fmt: skip
    (f,) = catches(CODE, {WF: workflow("GIT_SHA=${{ github.sha }}")}, dockerfile=builder)
    assert f.line == 2


def test_an_argument_named_with_any_characters():
    """A name is matched as text (``A(B`` made the rule fail with a regex error)."""
    odd = DOCKERFILE.replace("BUILD_COMMIT", "A(B")
    (f,) = catches(CODE, {WF: workflow("A(B=${{ github.sha }}")}, dockerfile=odd)
    assert "ARG A(B" in f.message
