from tests.unit.rules.ci_helpers import catches, dedent, fixed, passes

CODE = "LW604"
WF = ".github/workflows/ci.yml"


def two_images(scope_a: str = "", scope_b: str = "") -> str:
    return dedent(f"""
    on: push
    jobs:
      api:
        runs-on: ubuntu-latest
        steps:
          - uses: docker/setup-buildx-action@v3
          - uses: docker/build-push-action@v6
            with:
              cache-from: type=gha{scope_a}
              cache-to: type=gha,mode=max{scope_a}
      worker:
        runs-on: ubuntu-latest
        steps:
          - uses: docker/setup-buildx-action@v3
          - uses: docker/build-push-action@v6
            with:
              file: worker/Dockerfile
              cache-from: type=gha{scope_b}
              cache-to: type=gha,mode=max{scope_b}
    """)


def test_two_images_one_default_scope():
    (f,) = catches(CODE, {WF: two_images()}, files={"worker/Dockerfile": "FROM python:3.12-slim\n"})
    assert f.line == 10 and "'buildkit'" in f.message and "job 'worker'" in f.message


def test_own_scopes_pass():
    passes(CODE, {WF: two_images(",scope=api", ",scope=worker")}, files={"worker/Dockerfile": "FROM x\n"})


def test_fix_gives_this_build_its_own_scope_on_both_sides():
    out = fixed(CODE, {WF: two_images()}, WF, files={"worker/Dockerfile": "FROM x\n"})
    assert "cache-from: type=gha,scope=api\n" in out and "cache-to: type=gha,mode=max,scope=api\n" in out
    assert "cache-to: type=gha,mode=max\n" in out  # the worker's build is the worker Dockerfile's finding


def test_matrix_entries_share_a_scope():
    wf = dedent("""
    on: push
    jobs:
      image:
        runs-on: ubuntu-latest
        strategy:
          matrix:
            python: ["3.11", "3.12"]
        steps:
          - uses: docker/setup-buildx-action@v3
          - uses: docker/build-push-action@v6
            with:
              build-args: PYTHON=${{ matrix.python }}
              cache-from: type=gha
              cache-to: type=gha,mode=max
    """)
    (f,) = catches(CODE, {WF: wf})
    assert "matrix" in f.message
    passes(CODE, {WF: wf.replace("type=gha", "type=gha,scope=py${{ matrix.python }}")})
