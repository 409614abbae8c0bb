from tests.unit.rules.ci_helpers import catches, dedent, fixed, passes

CODE = "LW607"
WF = ".github/workflows/ci.yml"
ACTION = dedent("""
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/setup-buildx-action@v3
      - uses: docker/build-push-action@v6
        with:
          no-cache: true
          push: true
""")


def test_action_no_cache_unsafe_fix_removes_the_line():
    (f,) = catches(CODE, {WF: ACTION})
    assert (f.line, f.fix.safety) == (9, "unsafe")
    assert fixed(CODE, {WF: ACTION}, WF) == ACTION
    assert fixed(CODE, {WF: ACTION}, WF, unsafe=True) == ACTION.replace("          no-cache: true\n", "")


def test_command_no_cache():
    wf = "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - run: docker build --no-cache -t a .\n"
    assert fixed(CODE, {WF: wf}, WF, unsafe=True) == wf.replace(" --no-cache", "")


def test_no_cache_false_passes():
    passes(CODE, {WF: ACTION.replace("no-cache: true", "no-cache: false")})
    passes(CODE, {WF: ACTION.replace("no-cache: true", "no-cache: ${{ github.event_name == 'schedule' }}")})
