from tests.unit.rules.ci_helpers import catches, fixed, passes

CODE = "LW605"
WF = ".github/workflows/ci.yml"


def wf(inputs: str) -> str:
    lines = "".join(f"          {ln}\n" for ln in inputs.splitlines())
    return (
        "on: push\njobs:\n  image:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: docker/setup-buildx-action@v3\n      - uses: docker/build-push-action@v6\n"
        "        with:\n          push: true\n" + lines
    )


def test_import_nothing_exports():
    (f,) = catches(CODE, {WF: wf("cache-from: type=gha,scope=api")})
    assert "imports" in f.message


def test_fix_adds_the_missing_side_first_in_with():
    out = fixed(CODE, {WF: wf("cache-from: type=gha,scope=api")}, WF)
    assert out == wf("cache-from: type=gha,scope=api").replace(
        "        with:\n", "        with:\n          cache-to: type=gha,scope=api,mode=max\n"
    )


def test_export_nothing_imports():
    (f,) = catches(CODE, {WF: wf("cache-to: type=gha,mode=max")})
    assert "no CI build imports" in f.message


def test_pull_requests_reading_the_main_branch_cache_pass():
    pr = wf("cache-from: type=gha,scope=api")
    main = wf("cache-to: type=gha,mode=max,scope=api").replace("image:", "publish:")
    passes(CODE, {WF: pr, ".github/workflows/main.yml": main})


def test_matched_pairs_pass():
    passes(CODE, {WF: wf("cache-from: type=gha\ncache-to: type=gha,mode=max")})
    passes(CODE, {WF: wf("cache-from: type=registry,ref=r/a:c\ncache-to: type=registry,ref=r/a:c,mode=max")})


def no_buildx(inputs: str) -> str:
    return wf(inputs).replace("      - uses: docker/setup-buildx-action@v3\n", "")


def test_without_buildx_the_added_export_comes_with_a_buildx_step():
    # the default docker driver cannot export a gha cache (LW608): a cache-to alone would break the build
    ci = {WF: no_buildx("cache-from: type=gha,scope=api")}
    (f,) = catches(CODE, ci)
    assert f.fix.safety == "safe"  # push: true, so the image still leaves the builder
    assert fixed(CODE, ci, WF) == no_buildx("cache-from: type=gha,scope=api").replace(
        "      - uses: docker/build-push-action@v6\n        with:\n",
        "      - uses: docker/setup-buildx-action@v3\n      - uses: docker/build-push-action@v6\n"
        "        with:\n          cache-to: type=gha,scope=api,mode=max\n",
    )
    passes("LW608", {WF: fixed(CODE, ci, WF)})


def test_without_buildx_and_without_push_or_load_the_fix_is_unsafe():
    ci = {WF: no_buildx("cache-from: type=gha,scope=api").replace("          push: true\n", "")}
    (f,) = catches(CODE, ci)
    assert f.fix.safety == "unsafe"  # the docker-container driver keeps the image in the builder
    assert fixed(CODE, ci, WF) == ci[WF]
    assert "docker/setup-buildx-action@v3" in fixed(CODE, ci, WF, unsafe=True)


def test_adding_the_import_needs_no_buildx_step():
    ci = {WF: no_buildx("cache-to: type=gha,mode=max").replace("          push: true\n", "")}
    (f,) = catches(CODE, ci)
    assert f.fix.safety == "safe" and len(f.fix.edits) == 1
    assert "setup-buildx" not in fixed(CODE, ci, WF)


def test_two_builds_of_a_job_without_buildx_get_one_buildx_step(tmp_path):
    # the fix loop applies one setup-buildx fix per job and pass; then the later build has its builder
    from layerwise.fixes import fix_project

    second = "      - uses: docker/build-push-action@v6\n        with:\n          push: true\n          target: other\n" \
             "          cache-from: type=gha,scope=b\n"  # fmt: skip
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / WF).write_text(no_buildx("cache-from: type=gha,scope=a") + second)
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY requirements.txt .\n"
                                         "RUN pip install --no-cache-dir -r requirements.txt\n")  # fmt: skip
    result = fix_project(tmp_path, tmp_path / "Dockerfile", select={CODE})
    ((_, out),) = result.others.values()
    assert out.count("docker/setup-buildx-action") == 1 and out.count("cache-to: type=gha,scope=") == 2, out
    assert out.index("setup-buildx") < out.index("build-push-action")
