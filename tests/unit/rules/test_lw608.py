from tests.unit.rules.ci_helpers import catches, dedent, fixed, passes

CODE = "LW608"
WF = ".github/workflows/ci.yml"
NO_BUILDX = dedent("""
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/build-push-action@v6
        with:
          push: true
          cache-from: type=gha
          cache-to: type=gha,mode=max
""")


def test_gha_export_with_the_docker_driver():
    (f,) = catches(CODE, {WF: NO_BUILDX})
    assert (f.line, f.severity, f.fix.safety) == (11, "error", "safe")
    assert fixed(CODE, {WF: NO_BUILDX}, WF) == NO_BUILDX.replace(
        "      - uses: docker/build-push-action", "      - uses: docker/setup-buildx-action@v3\n      - uses: docker/build-push-action"
    )


def test_buildx_set_up_or_inline_passes():
    passes(CODE, {WF: NO_BUILDX.replace("- uses: actions/checkout@v4", "- uses: docker/setup-buildx-action@v3")})
    passes(CODE, {WF: NO_BUILDX.replace("type=gha,mode=max", "type=inline")})
    cmd = "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: |\n          docker buildx create --use\n" \
          "          docker buildx build --cache-to type=local,dest=/tmp/c .\n"
    passes(CODE, {WF: cmd})
    catches(CODE, {WF: cmd.replace("docker buildx create --use\n          ", "")})
