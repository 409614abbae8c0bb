"""``fix`` copies the files an install reads from where the install reads them (issue #14):
``RUN cd sub && pip install -r requirements.txt`` reads ``sub/requirements.txt``, and
``pip install -r $APP/requirements.txt`` (``ENV APP=/srv/app``, ``COPY . $APP``) reads the
context's ``requirements.txt``. The fixed Dockerfile builds on the engine, and its install
step stays cached after a code-only change. (The requirements name no package: the build
needs no package index.)"""

from __future__ import annotations

import pytest

from layerwise.fixes import fix_project

pytestmark = pytest.mark.engine

CASES = {
    "cd-sub": (
        'FROM python:3.10-slim\nWORKDIR /app\nCOPY . .\nRUN cd sub && pip install -r requirements.txt\n'
        'CMD ["python", "sub/app.py"]\n',
        {"sub/requirements.txt": "# sub's (none)\n", "requirements.txt": "# the root's: not this one\n",
         "sub/app.py": "print(1)\n"},
        "COPY sub/requirements.txt ./sub/",
    ),
    "env-path": (
        'FROM python:3.10-slim\nENV APP=/srv/app\nWORKDIR $APP\nCOPY . $APP\nRUN pip install -r $APP/requirements.txt\n'
        'CMD ["python", "app.py"]\n',
        {"requirements.txt": "# none\n", "app.py": "print(1)\n"},
        "COPY requirements.txt ./",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_fixed_install_paths_build(engine, tmp_path, name):
    dockerfile, files, copy_line = CASES[name]
    (tmp_path / "Dockerfile").write_text(dockerfile)
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    result = fix_project(tmp_path, tmp_path / "Dockerfile", dockerignore=False)
    assert copy_line in result.dockerfile.splitlines(), result.dockerfile
    result.write()
    first = engine.build(tmp_path, builder="buildkit")
    assert first.ok, first.log
    code = "sub/app.py" if name == "cd-sub" else "app.py"
    (tmp_path / code).write_text("print(2)\n")
    second = engine.build(tmp_path, builder="buildkit")
    assert second.ok, second.log
    assert second.step("RUN").cached, second.summary()
