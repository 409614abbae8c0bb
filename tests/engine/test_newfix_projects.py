"""The fixes of LW104, LW203, LW402, LW107, LW108 and the ``--no-deps`` project install, built
on the real engine (BuildKit): the original project builds (or, where the finding says so,
fails), ``layerwise fix`` rewrites it, the fixed project builds, and the cache behaves as the
rule says it should after the fix.

Each project is a folder of ``newfix_projects/`` (the Dockerfile as a user wrote it, trimmed
from real projects where noted); the tests copy it, run ``fix_project`` on the copy and build.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from layerwise.fixes import fix_project

HERE = Path(__file__).parent / "newfix_projects"

pytestmark = pytest.mark.engine


def _copy(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(HERE / name, dst)
    return dst


def _build(engine, ctx: Path, tag: str, *, ok: bool = True, build_args: dict[str, str] | None = None):
    r = engine.build(ctx, builder="buildkit", tag=tag, build_args=build_args)
    if ok:
        assert r.ok, f"{r.error}\n{r.summary()}\n{r.log[-3000:]}"
    return r


def _fix(ctx: Path, select: set[str] | None = None) -> str:
    result = fix_project(ctx, ctx / "Dockerfile", select=select, dockerignore=False)
    assert result.changed, "fix found nothing to fix"
    result.write()
    assert not fix_project(ctx, ctx / "Dockerfile", select=select, dockerignore=False).changed
    return result.dockerfile


def _sh(engine, tag: str, script: str, user: str = "0") -> str:
    p = engine.run(tag, ["-c", script], detach=False, entrypoint="sh", extra_args=["--user", user], timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def test_lw104_update_merged_and_lists_removed(engine, image_tag, tmp_path):
    ctx = _copy("apt-update", tmp_path)
    before = _build(engine, ctx, image_tag())
    assert before.ok
    fixed = _fix(ctx, {"LW104"})
    assert "RUN apt-get update\n" not in fixed
    tag = image_tag()
    _build(engine, ctx, tag)
    assert _sh(engine, tag, "command -v make; ls -A /var/lib/apt/lists | wc -l").split() == ["/usr/bin/make", "0"]
    # adding a package to the install now refreshes the lists in the same step
    df = ctx / "Dockerfile"
    df.write_text(df.read_text().replace(" make", " make patch"))
    r = _build(engine, ctx, tag)
    step = r.step("RUN apt-get update")
    assert step.ran, r.summary()
    assert _sh(engine, tag, "command -v patch").strip() == "/usr/bin/patch"


def test_lw203_cache_mount_for_the_installing_user(engine, image_tag, tmp_path):
    """The mount at root's cache is unused by `USER app`: uv's cache lands in the layer, and a
    re-run downloads again ("Prepared 1 package"); after the fix (target and uid of the user)
    the cache is in the mount, out of the image, and a re-run downloads nothing."""
    ctx = _copy("cache-mount-user", tmp_path)
    tag = image_tag()
    _build(engine, ctx, tag)
    assert _sh(engine, tag, "ls -A /home/app/.cache/uv | wc -l").strip() != "0"  # the cache is in the image
    r = _build(engine, ctx, tag, build_args={"BUST": "2"})
    assert "Prepared 1 package" in r.log, r.log[-3000:]  # downloaded again
    fixed = _fix(ctx, {"LW203"})
    assert "--mount=type=cache,target=/home/app/.cache/uv,uid=1000 " in fixed
    _build(engine, ctx, tag, build_args={"BUST": "3"})
    assert _sh(engine, tag, "test ! -e /home/app/.cache/uv && ls /home/app/lib/six.py").strip() == "/home/app/lib/six.py"
    r = _build(engine, ctx, tag, build_args={"BUST": "4"})
    assert "+ six==1.17.0" in r.log and "Prepared" not in r.log, r.log[-3000:]  # installed from the cache


def test_lw402_lock_copied_before_the_install(engine, image_tag, tmp_path):
    """`uv sync --locked` after a COPY of pyproject.toml alone fails ("Unable to find
    lockfile"), although uv.lock is in the project; the fix copies it with the manifest."""
    ctx = _copy("uv-lock-not-copied", tmp_path)
    r = _build(engine, ctx, image_tag(), ok=False)
    assert not r.ok and "Unable to find lockfile" in r.log, r.log[-3000:]
    fixed = _fix(ctx, {"LW402"})
    assert "COPY pyproject.toml uv.lock ./\n" in fixed
    tag = image_tag()
    _build(engine, ctx, tag)
    assert _sh(engine, tag, "python -c 'import hello_uv, idna; print(hello_uv.GREETING)'").strip() == "hello v1"


def test_lw201_pdm_cache_left_out_of_the_image(engine, image_tag, tmp_path):
    """`pdm install` leaves its cache in /root/.cache/pdm (megabytes of wheels); the fix's
    `pdm --no-cache install` (a global option of PDM) builds, and leaves none."""
    ctx = tmp_path / "pdm"
    shutil.copytree(Path(__file__).parent / "fix_projects" / "pdm" / "project", ctx)
    tag = image_tag()
    _build(engine, ctx, tag)
    assert int(_sh(engine, tag, "du -sk /root/.cache/pdm | cut -f1")) > 100
    fixed = _fix(ctx, {"LW201"})
    assert "RUN pdm --no-cache install --prod" in fixed
    _build(engine, ctx, tag)
    left = _sh(engine, tag, "du -sk /root/.cache/pdm 2>/dev/null | cut -f1").strip()
    assert int(left or 0) < 100, f"{left} KB of PDM cache left"
    assert "hello" in _sh(engine, tag, "/app/.venv/bin/python -m hello_pdm")


def test_lw103_setuptools_license_file_missing_is_a_warning(engine, image_tag, tmp_path):
    """A setuptools project whose readme and `license = {file}` are not copied: LW103 says
    the build warns (a warning, not an error), and the engine agrees: it builds."""
    from layerwise.analyses.check import check_dockerfile

    ctx = _copy("license-not-copied", tmp_path)
    found = [f for f in check_dockerfile(ctx / "Dockerfile", context=ctx).findings if f.code == "LW103"]
    assert {f.severity for f in found} == {"warning"} and len(found) == 2, found
    tag = image_tag()
    _build(engine, ctx, tag)
    assert _sh(engine, tag, "python -c 'import hello_lic; print(hello_lic.GREETING)'").strip() == "hello v1"


def test_lw107_system_packages_moved_above_the_code(engine, image_tag, tmp_path):
    """apt-get after `COPY . .` runs again on every code change; after the fix (the RUN moved
    above the copy) a code change leaves it CACHED, and the image still has make and the code."""
    ctx = _copy("system-after-copy", tmp_path)
    tag = image_tag()
    _build(engine, ctx, tag)
    (ctx / "app.py").write_text('print("hello v2")\n')
    r = _build(engine, ctx, tag)
    assert r.step("RUN apt-get update").ran, r.summary()
    fixed = _fix(ctx, {"LW107"})
    assert fixed.index("RUN apt-get") < fixed.index("COPY . .")
    _build(engine, ctx, tag)
    (ctx / "app.py").write_text('print("hello v3")\n')
    r = _build(engine, ctx, tag)
    assert r.step("RUN apt-get update").cached, r.summary()
    assert _sh(engine, tag, "command -v make && python3 /app/app.py").split() == ["/usr/bin/make", "hello", "v3"]


def test_lw108_final_stage_installs_before_the_app_copy(engine, image_tag, tmp_path):
    """The final stage installs after `COPY --from=builder /app /app` (which holds the code):
    a code change re-runs the install. After the fix (requirements copied from the builder
    first) BuildKit keys that COPY --from on the copied content: CACHED, and so the install,
    although the builder stage rebuilt."""
    ctx = _copy("stage-copy", tmp_path)
    tag = image_tag()
    _build(engine, ctx, tag)
    (ctx / "app.py").write_text((ctx / "app.py").read_text().replace("v1", "v2"))
    r = _build(engine, ctx, tag)
    assert r.step("RUN pip install").ran, r.summary()
    fixed = _fix(ctx, {"LW108"})
    assert "COPY --from=builder /app/requirements.txt /app/\nRUN pip install" in fixed
    _build(engine, ctx, tag)
    (ctx / "app.py").write_text((ctx / "app.py").read_text().replace("v2", "v3"))
    r = _build(engine, ctx, tag)
    assert r.step("RUN python3 -m compileall").ran, r.summary()  # the builder rebuilt
    assert r.step("COPY --from=builder /app/requirements.txt").cached, r.summary()
    assert r.step("RUN pip install").cached, r.summary()
    p = engine.run(tag, [], detach=False, timeout=300)
    assert p.stdout.split() == ["hello", "v3", "1.17.0"], p.stdout + p.stderr
