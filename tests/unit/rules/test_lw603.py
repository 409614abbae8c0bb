from tests.unit.rules.ci_helpers import catches, dedent, passes

CODE = "LW603"
WF = ".github/workflows/ci.yml"
WORKFLOW = dedent("""
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          cache-from: type=gha
          cache-to: type=gha,mode=max
""")
MOUNT = """\
FROM python:3.12-slim
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
COPY . .
"""


def test_cache_mount_install_built_in_ci():
    (f,) = catches(CODE, {WF: WORKFLOW}, dockerfile=MOUNT)
    assert f.severity == "info" and f.related == (("Dockerfile", 3),) and f.fix is None


def test_no_mount_or_no_ci():
    passes(CODE, {WF: WORKFLOW})
    passes(CODE, {}, dockerfile=MOUNT)
