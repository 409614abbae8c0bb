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


# Docker's documented local cache for GitHub Actions (wger .github/workflows/docker.yml:108-109)
LOCAL = (
    "on: push\njobs:\n  image:\n    runs-on: ubuntu-latest\n    steps:\n"
    "      - uses: docker/setup-buildx-action@v3\n"
    "      - uses: actions/cache@v4\n        with:\n          path: /tmp/.buildx-cache\n"
    "          key: buildx-${{ github.sha }}\n          restore-keys: buildx-\n"
    "      - uses: docker/build-push-action@v6\n        with:\n          push: true\n"
    "          cache-from: type=local,src=/tmp/.buildx-cache\n"
    "          cache-to: type=local,dest=/tmp/.buildx-cache-new,mode=max\n"
)
MOVE = "      - name: Move cache\n        run: |\n          rm -rf /tmp/.buildx-cache\n          mv /tmp/.buildx-cache-new /tmp/.buildx-cache\n"


def test_a_local_cache_moved_over_the_imported_folder_is_connected():
    """The export goes to a new folder, a later step moves it over the one the next run
    imports: no finding (was one each way, realproj item 4)."""
    passes(CODE, {WF: LOCAL + MOVE})
    passes(CODE, {WF: LOCAL + MOVE.replace("rm -rf /tmp/.buildx-cache\n          mv", "rm -rf /tmp/.buildx-cache && mv")})
    # a docker buildx build command, its move in the same script
    cmd = ("on: push\njobs:\n  image:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: docker/setup-buildx-action@v3\n"
           "      - run: |\n          docker buildx build --cache-from type=local,src=/tmp/c \\\n"
           "            --cache-to type=local,dest=/tmp/c-new,mode=max -t app .\n"
           "          rm -rf /tmp/c && mv /tmp/c-new /tmp/c\n")  # fmt: skip
    passes(CODE, {WF: cmd})


def test_without_the_move_the_hints_say_to_move_never_to_export_into_the_imported_folder():
    found = catches(CODE, {WF: LOCAL})
    assert len(found) == 2
    move = "rm -rf /tmp/.buildx-cache && mv /tmp/.buildx-cache-new /tmp/.buildx-cache"
    assert all(move in f.hint for f in found), [f.hint for f in found]
    # a move in another job runs on another runner: it connects nothing
    other = MOVE.replace("      - name: Move cache\n", "  later:\n    runs-on: ubuntu-latest\n    steps:\n      - name: Move cache\n")
    assert len(catches(CODE, {WF: LOCAL + other})) == 2


def test_a_local_import_with_no_export_is_told_to_export_to_a_new_folder():
    """Exporting a local cache into the folder it is imported from keeps every old layer there:
    the hint proposes the -new folder and the move, never ``dest=`` the imported folder."""
    (f,) = catches(CODE, {WF: wf("cache-from: type=local,src=/tmp/.buildx-cache")})
    assert "cache-to: type=local,dest=/tmp/.buildx-cache-new,mode=max" in f.hint
    assert "rm -rf /tmp/.buildx-cache && mv /tmp/.buildx-cache-new /tmp/.buildx-cache" in f.hint
    assert "dest=/tmp/.buildx-cache," not in f.hint and "the same cache" not in f.hint
    assert f.fix is None


def test_gitlab_a_local_cache_moved_in_the_job_script_is_connected():
    job = ("build:\n  image: docker:27\n  services: [docker:27-dind]\n  cache:\n    key: buildx\n    paths: [.buildx-cache]\n"
           "  script:\n    - docker buildx create --use\n"
           "    - docker buildx build --cache-from type=local,src=.buildx-cache"
           " --cache-to type=local,dest=.buildx-cache-new,mode=max -t app .\n")  # fmt: skip
    assert len(catches(CODE, {".gitlab-ci.yml": job})) == 2
    passes(CODE, {".gitlab-ci.yml": job + "    - rm -rf .buildx-cache && mv .buildx-cache-new .buildx-cache\n"})
    passes(CODE, {".gitlab-ci.yml": job + "  after_script:\n    - rm -rf .buildx-cache\n    - mv .buildx-cache-new .buildx-cache\n"})
