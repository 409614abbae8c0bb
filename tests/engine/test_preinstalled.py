"""A final stage that copies the builder's virtualenv and runs the same install again finds every
dependency installed (lnbits' and mealie's layout): the install re-runs after a code change, but
downloads and reinstalls nothing, so LW101 does not report it. The final install here runs with
``--no-index``: it fails if it has anything to install."""

from __future__ import annotations

import pytest

from layerwise.api import check_project

pytestmark = pytest.mark.engine

DOCKERFILE = """\
FROM python:3.10-slim AS builder
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.10-slim
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY . .
RUN pip install --no-cache-dir --no-index -r requirements.txt
CMD ["python", "app.py"]
"""


def test_reinstall_onto_a_copied_venv_installs_nothing(engine, tmp_path):
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "requirements.txt").write_text("idna==3.10\n")
    (tmp_path / "app.py").write_text("import idna\nprint(1)\n")
    (tmp_path / ".dockerignore").write_text("Dockerfile\n.dockerignore\n")
    codes = {f.code for f in check_project(tmp_path).findings}
    assert "LW101" not in codes, codes

    first = engine.build(tmp_path, builder="buildkit")
    assert first.ok, first.log
    (tmp_path / "app.py").write_text("import idna\nprint(2)\n")
    second = engine.build(tmp_path, builder="buildkit")
    assert second.ok, second.log  # --no-index: nothing was left to install
    final_install = [s for s in second.steps if "--no-index" in s.instruction]
    assert final_install and not final_install[0].cached, second.summary()  # it did run again
    assert "Requirement already satisfied: idna==3.10" in second.log
