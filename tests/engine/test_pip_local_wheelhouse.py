"""LW201 says nothing of ``pip install --no-index --find-links=DIR`` from a wheelhouse (realproj
item 16): pip fetches nothing over HTTP and builds no wheel, so its cache stays empty. It does
report the same install of an sdist: pip builds a wheel and keeps it in its cache. Both checked
on the engine (no index needed: the wheel and the sdist are written by hand in the build)."""

from __future__ import annotations

import pytest

from layerwise.analyses.check import check_dockerfile

pytestmark = pytest.mark.engine

DOCKERFILE = """\
FROM python:3.11-slim
COPY make.py /
RUN python /make.py
RUN pip install --no-index --find-links=/wheels demo && (du -sk /root/.cache/pip 2>/dev/null || echo 0) | cut -f1 > /wheel-kb
RUN pip install --no-index --no-build-isolation --find-links=/sdists /sdists/demo2-1.0.tar.gz \\
    && (du -sk /root/.cache/pip/wheels 2>/dev/null || echo 0) | cut -f1 > /sdist-kb
"""

MAKE = """\
import io, os, tarfile, zipfile

os.makedirs("/wheels")
with zipfile.ZipFile("/wheels/demo-1.0-py3-none-any.whl", "w") as z:
    z.writestr("demo.py", "X = 1\\n")
    z.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\n")
    z.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nGenerator: hand\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
    z.writestr("demo-1.0.dist-info/RECORD", "")
os.makedirs("/sdists")
with tarfile.open("/sdists/demo2-1.0.tar.gz", "w:gz") as t:
    for name, body in {
        "demo2-1.0/setup.py": "from setuptools import setup\\nsetup(name='demo2', version='1.0', py_modules=['demo2'])\\n",
        "demo2-1.0/demo2.py": "Y = 2\\n",
        "demo2-1.0/PKG-INFO": "Metadata-Version: 2.1\\nName: demo2\\nVersion: 1.0\\n",
    }.items():
        data = body.encode()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
"""


def test_a_wheelhouse_install_leaves_no_pip_cache_an_sdist_one_does(engine, image_tag, tmp_path):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "make.py").write_text(MAKE)
    found = [f.line for f in check_dockerfile(tmp_path / "Dockerfile", context=tmp_path).findings if f.code == "LW201"]
    assert found == [5]  # the sdist install only
    tag = image_tag()
    r = engine.build(tmp_path, builder="buildkit", tag=tag)
    assert r.ok, f"{r.error}\n{r.log[-3000:]}"
    p = engine.run(tag, ["-c", "python -c 'import demo, demo2; print(demo.X + demo2.Y)'; cat /wheel-kb /sdist-kb"],
                   detach=False, entrypoint="sh", timeout=300)  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    installed, wheel_kb, sdist_kb = p.stdout.split()
    assert installed == "3"
    assert int(wheel_kb) == 0, "the wheelhouse install left a pip cache"
    assert int(sdist_kb) > 0, "the sdist install left no built wheel in the cache"
