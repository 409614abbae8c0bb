"""``layerwise pin``: pip's resolver against a wheelhouse the tests write (no network), the
project's tools (stand-ins on PATH that record their command line), and a PEP 691 index served
from 127.0.0.1 (unit tests never reach the package index)."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from layerwise.cli import main
from layerwise.errors import LayerwiseError
from layerwise.pin import DEPENDENCIES_HEADER, detect, pin
from layerwise.pin.requirements import RequirementsFile, is_pinned
from tests.shared import run_cli

# ------------------------------------------------------------------ a wheelhouse by hand


def make_wheel(folder: Path, name: str, version: str, requires: list[str] = (),  # type: ignore[assignment]
               requires_python: str | None = None, tag: str = "py3-none-any") -> Path:  # fmt: skip
    """A pure-Python wheel with a module and the metadata pip reads."""
    mod = name.replace("-", "_")
    dist = f"{mod}-{version}"
    files = {
        f"{mod}/__init__.py": f"__version__ = {version!r}\n",
        f"{dist}.dist-info/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
        + (f"Requires-Python: {requires_python}\n" if requires_python else ""),
        f"{dist}.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: layerwise-tests\nRoot-Is-Purelib: true\nTag: {tag}\n",
    }
    record = []
    for path, body in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(body.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(body.encode())}")
    files[f"{dist}.dist-info/RECORD"] = "\n".join(record + [f"{dist}.dist-info/RECORD,,"]) + "\n"
    whl = folder / f"{dist}-{tag}.whl"
    with zipfile.ZipFile(whl, "w") as z:
        for path, body in files.items():
            z.writestr(path, body)
    return whl


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("wheelhouse")
    make_wheel(d, "alpha", "1.0")
    make_wheel(d, "alpha", "1.2")
    (d / "alpha-1.2.tar.gz").write_bytes(b"an sdist of the same version: its hash is added too")
    make_wheel(d, "alpha", "2.0")
    make_wheel(d, "beta", "0.9", ["gamma>=1"])
    make_wheel(d, "gamma", "1.1")
    make_wheel(d, "gamma", "1.4")
    make_wheel(d, "delta", "3.0", ["gamma<1.3; python_version >= '3'", "epsilon; extra == 'fast'"])
    make_wheel(d, "epsilon", "0.5")
    return d


@pytest.fixture(autouse=True)
def _no_pip_config(monkeypatch):
    """pip settings of the machine (e.g. PIP_FIND_LINKS) stay out of the tests."""
    for k in list(os.environ):
        if k.startswith("PIP_") and k not in ("PIP_CERT",):
            monkeypatch.delenv(k)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)


def local(wheelhouse: Path) -> list[str]:
    return ["--no-index", "--find-links", str(wheelhouse)]


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body)
    return tmp_path


# ------------------------------------------------------------------ pip's resolver

REQUIREMENTS = """\
# the app's dependencies
alpha>=1,<2   # the newest 1.x
Beta[fast] ; python_version >= "3.8"
delta==3.0
-c constraints.txt
--only-binary :all:
old-thing ; python_version < "3.0"
"""


@pytest.mark.slow
def test_loose_lines_become_pins_keeping_markers_extras_comments(tmp_path, wheelhouse):
    write(tmp_path, {"requirements.txt": REQUIREMENTS, "constraints.txt": "gamma<1.3\n"})
    result = pin(tmp_path / "requirements.txt", index_options=local(wheelhouse))
    assert result.tool == "pip"
    _old, new = result.files[str(tmp_path / "requirements.txt")]
    assert new == """\
# the app's dependencies
alpha==1.2   # the newest 1.x
Beta[fast]==0.9 ; python_version >= "3.8"
delta==3.0
-c constraints.txt
--only-binary :all:
old-thing ; python_version < "3.0"
# dependencies of the requirements above, pinned by layerwise pin
gamma==1.1
"""
    assert any("old-thing: its marker is false" in n for n in result.notes)
    assert result.write() == [str(tmp_path / "requirements.txt")]
    assert (tmp_path / "requirements.txt").read_text() == new
    # a second run changes nothing
    assert not pin(tmp_path / "requirements.txt", index_options=local(wheelhouse)).changed


@pytest.mark.slow
def test_hashes_for_every_requirement(tmp_path, wheelhouse):
    write(tmp_path, {"requirements.txt": "alpha~=1.0  # ok\nbeta\n"})
    result = pin(tmp_path, hashes=True, index_options=local(wheelhouse))
    _, new = result.files[str(tmp_path / "requirements.txt")]
    a = "\n".join(sorted(f"    --hash={sha256(wheelhouse / f)}" for f in ("alpha-1.2-py3-none-any.whl", "alpha-1.2.tar.gz")))
    a = a.replace("\n", " \\\n").removeprefix("    --hash=")
    b = sha256(wheelhouse / "beta-0.9-py3-none-any.whl")
    g = sha256(wheelhouse / "gamma-1.4-py3-none-any.whl")
    assert new == (f"alpha==1.2 \\\n    --hash={a}  # ok\nbeta==0.9 \\\n    --hash={b}\n"
                   f"{DEPENDENCIES_HEADER}\ngamma==1.4 \\\n    --hash={g}\n")  # fmt: skip
    result.write()
    # pip accepts the file in hash-checking mode, and a second run changes nothing
    import subprocess

    check = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--require-hashes",
                            *local(wheelhouse), "-r", "requirements.txt"], cwd=tmp_path, capture_output=True, text=True, check=False)  # fmt: skip
    assert check.returncode == 0 and "Would install alpha-1.2 beta-0.9 gamma-1.4" in check.stdout, check.stderr
    (tmp_path / "requirements.txt").write_text(new.replace(b[-6:], "000000"))
    bad = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--require-hashes",
                          *local(wheelhouse), "-r", "requirements.txt"], cwd=tmp_path, capture_output=True, text=True, check=False)  # fmt: skip
    assert bad.returncode != 0 and "DO NOT MATCH" in bad.stderr, bad.stderr
    with pytest.raises(LayerwiseError, match="changed while layerwise pin ran"):
        result.write()  # no longer the text pin read: not overwritten
    (tmp_path / "requirements.txt").write_text(new)
    again = pin(tmp_path, hashes=True, index_options=local(wheelhouse))
    assert not again.changed, again.diff()


@pytest.mark.slow
def test_includes_are_pinned_in_their_own_file(tmp_path, wheelhouse):
    write(tmp_path, {"requirements.txt": "-r requirements/base.txt\ngamma\n",
                     "requirements/base.txt": "alpha<2\n"})  # fmt: skip
    result = pin(tmp_path / "requirements.txt", index_options=local(wheelhouse))
    assert result.files[str(tmp_path / "requirements" / "base.txt")][1] == "alpha==1.2\n"
    assert result.files[str(tmp_path / "requirements.txt")][1] == "-r requirements/base.txt\ngamma==1.4\n"


@pytest.mark.slow
def test_crlf_and_continuations_are_kept(tmp_path, wheelhouse):
    (tmp_path / "requirements.txt").write_bytes(b"alpha \\\r\n  >=1.0,<2\r\n# c\r\ngamma==1.1\r\n")
    result = pin(tmp_path, index_options=local(wheelhouse))
    assert result.files[str(tmp_path / "requirements.txt")][1] == "alpha==1.2\r\n# c\r\ngamma==1.1\r\n"


@pytest.mark.slow
def test_unresolvable_requirement_is_one_error_line(tmp_path, wheelhouse):
    write(tmp_path, {"requirements.txt": "alpha>=5\n"})
    with pytest.raises(LayerwiseError, match=r"requirements.txt: pip could not resolve the requirements: .*alpha"):
        pin(tmp_path, index_options=local(wheelhouse))


def test_is_pinned():
    from packaging.requirements import Requirement

    assert is_pinned(Requirement("a==1.0")) and is_pinned(Requirement("a===1.0-x"))
    for loose in ("a", "a>=1", "a==1.*", "a~=1.0", "a!=1", "a==1,<2", "a @ https://x/a.whl"):
        assert not is_pinned(Requirement(loose)), loose


def test_parse_keeps_every_byte_when_nothing_changes():
    text = "-e .\n--index-url https://x/simple\n./local/pkg\nname @ https://x/n.whl\n\n# only a comment\n"
    rf = RequirementsFile.parse("requirements.txt", text)
    assert rf.render({}) == text
    assert [ln.requirement.name for ln in rf.requirements()] == ["name"]  # type: ignore[union-attr]


# ------------------------------------------------------------------ the project's own tool


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """poetry, pdm, uv, pipenv and pip-compile stand-ins on PATH: each records its argv in
    ``calls`` and writes the file the real one would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    script = """#!{python}
import os, sys
from pathlib import Path
open({log!r}, "a").write(" ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) + "\\n")
args = sys.argv[1:]
name = Path(sys.argv[0]).name
if name == "pip-compile" or args[:2] == ["pip", "compile"]:
    out = args[args.index("--output-file" if "--output-file" in args else "-o") + 1]
    Path(out).write_text("alpha==1.2\\n")
else:
    lock = {{"poetry": "poetry.lock", "pdm": "pdm.lock", "uv": "uv.lock", "pipenv": "Pipfile.lock"}}[name]
    Path(lock).write_text("locked by " + name + "\\n")
"""
    for name in ("poetry", "pdm", "uv", "pipenv", "pip-compile"):
        exe = bin_dir / name
        exe.write_text(script.format(python=sys.executable, log=str(log)))
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.mark.parametrize(
    "files, tool, command, output",
    [
        ({"pyproject.toml": "[tool.poetry]\nname='x'\n", "poetry.lock": "old\n"}, "poetry", "poetry lock", "poetry.lock"),
        ({"pyproject.toml": "[project]\nname='x'\n[tool.pdm]\n"}, "pdm", "pdm lock", "pdm.lock"),
        ({"pyproject.toml": "[project]\nname='x'\n", "uv.lock": "old\n"}, "uv", "uv lock", "uv.lock"),
        ({"Pipfile": "[packages]\nalpha='*'\n"}, "pipenv", "pipenv lock", "Pipfile.lock"),
        ({"requirements.in": "alpha\n"}, "pip-compile",
         "pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras --output-file"
         " requirements.txt requirements.in", "requirements.txt"),
    ],
    ids=["poetry", "pdm", "uv", "pipenv", "pip-compile"],
)
def test_the_projects_tool_runs(tmp_path, fake_tools, files, tool, command, output):
    project = write(tmp_path / "project", files)
    result = pin(project)
    assert result.tool == tool
    assert fake_tools.read_text().splitlines() == [command]
    path = str(project / output)
    assert result.files[path][1] in ("alpha==1.2\n", f"locked by {tool}\n")
    before = {p.name: p.read_text() for p in project.iterdir()}
    assert {p.name: p.read_text() for p in project.iterdir()} == before  # nothing written yet
    result.write()
    assert Path(path).read_text() == result.files[path][1]


def test_a_lock_saved_while_pin_ran_is_not_overwritten(tmp_path, fake_tools):
    # pin writes with fix's writer: the file is compared with what pin read just before the rename
    project = write(tmp_path / "project", {"pyproject.toml": "[project]\nname='x'\n", "uv.lock": "old\r\n"})
    result = pin(project)
    assert result.files[str(project / "uv.lock")] == ("old\r\n", "locked by uv\n")  # read as its bytes are
    (project / "uv.lock").write_text("edited meanwhile\n")
    with pytest.raises(LayerwiseError, match=r"uv.lock: changed while layerwise pin ran: not written \(run pin again\)"):
        result.write()
    assert (project / "uv.lock").read_text() == "edited meanwhile\n"


def test_a_hard_linked_lock_is_written_for_every_name(tmp_path, fake_tools):
    project = write(tmp_path / "project", {"pyproject.toml": "[project]\nname='x'\n", "uv.lock": "old\n"})
    os.link(project / "uv.lock", tmp_path / "uv.lock.link")
    pin(project).write()
    assert (tmp_path / "uv.lock.link").read_text() == "locked by uv\n" == (project / "uv.lock").read_text()


def test_uv_project_compiles_requirements_in_with_uv(tmp_path, fake_tools):
    project = write(tmp_path / "p", {"requirements.in": "alpha\n", "uv.lock": "", "pyproject.toml": ""})
    result = pin(project / "requirements.in", hashes=True)
    assert result.tool == "uv"
    assert fake_tools.read_text().splitlines() == [
        "uv pip compile --quiet --generate-hashes requirements.in -o requirements.txt"
    ]


def test_a_compiled_requirements_txt_is_compiled_again(tmp_path, fake_tools):
    project = write(tmp_path / "p", {"requirements.in": "alpha\n", "requirements.txt": "alpha==1.0\n"})
    assert detect(project / "requirements.txt") == ("pip-compile", project / "requirements.in")


def test_missing_tool_is_one_error_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    project = write(tmp_path / "p", {"pyproject.toml": "[tool.poetry]\n", "poetry.lock": ""})
    with pytest.raises(LayerwiseError, match="pins with poetry, which is not installed"):
        pin(project)


def test_nothing_to_pin(tmp_path):
    with pytest.raises(LayerwiseError, match="nothing to pin here"):
        pin(tmp_path)


# ------------------------------------------------------------------ the command


@pytest.mark.slow
def test_cli_diff_writes_nothing_and_exits_1(tmp_path, wheelhouse):
    write(tmp_path, {"requirements.txt": "alpha<2\n"})
    r = run_cli(["pin", str(tmp_path), "--diff", "--no-index", "-f", str(wheelhouse)])
    assert r.exit_code == 1, r.output
    assert "-alpha<2\n+alpha==1.2\n" in r.output
    assert (tmp_path / "requirements.txt").read_text() == "alpha<2\n"
    r = run_cli(["pin", str(tmp_path), "--no-index", "-f", str(wheelhouse)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "requirements.txt").read_text() == "alpha==1.2\n"


def test_cli_help_has_an_example():
    r = run_cli(["pin", "--help"])
    assert r.exit_code == 0 and "Example:" in r.output and "layerwise pin requirements.txt" in r.output


def test_cli_error_is_one_line_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["pin", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("layerwise: error: ") and err.count("\n") == 1


# ------------------------------------------------------------------ an index over HTTP


@pytest.fixture
def local_index(wheelhouse, tmp_path):
    """A PEP 691 (JSON) simple index on 127.0.0.1 serving the wheelhouse, plus a wheel for
    another platform that pip does not choose here: what ``pin --hashes`` reads from PyPI,
    without the network (unit tests never reach the package index)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files = {f.name: f.read_bytes() for f in wheelhouse.iterdir()}
    files["alpha-1.2-cp311-cp311-win_amd64.whl"] = b"a wheel pip does not pick on this platform"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = self.path.strip("/").split("/")
            if parts[0] == "simple" and len(parts) == 2:
                listed = [{"filename": n, "url": f"/files/{n}", "hashes": {"sha256": hashlib.sha256(b).hexdigest()}}
                          for n, b in sorted(files.items()) if n.startswith(parts[1].replace("-", "_") + "-")]  # fmt: skip
                body = json.dumps({"meta": {"api-version": "1.0"}, "name": parts[1], "files": listed}).encode()
                ctype = "application/vnd.pypi.simple.v1+json"
            elif parts[0] == "files" and len(parts) == 2 and parts[1] in files:
                body, ctype = files[parts[1]], "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/simple", files
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_hashes_of_every_file_the_index_lists(tmp_path, local_index):
    """pip resolves against the index, and every file of the chosen version that the index's
    JSON lists gets its --hash (the other platform's wheel and the sdist too)."""
    url, files = local_index
    write(tmp_path, {"requirements.txt": "alpha>=1,<2  # compat\ngamma ; python_version >= '3.6'\n"})
    result = pin(tmp_path, hashes=True, index_options=["--index-url", url])
    assert not result.notes, result.notes
    _, new = result.files[str(tmp_path / "requirements.txt")]
    alpha = sorted("sha256:" + hashlib.sha256(b).hexdigest() for n, b in files.items() if n.startswith("alpha-1.2"))
    gamma = ["sha256:" + hashlib.sha256(files["gamma-1.4-py3-none-any.whl"]).hexdigest()]
    assert len(alpha) == 3
    assert new.splitlines() == [
        "alpha==1.2 \\",
        *[f"    --hash={h} \\" for h in alpha[:-1]],
        f"    --hash={alpha[-1]}  # compat",
        "gamma==1.4 ; python_version >= '3.6' \\",
        f"    --hash={gamma[0]}",
    ]


@pytest.mark.slow
def test_requirements_in_stays_loose_without_a_compiler(tmp_path, wheelhouse, monkeypatch):
    """No pip-compile or uv: pip's resolver writes requirements.txt, flattened, from the .in."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    write(tmp_path, {"requirements.in": "-c constraints.txt\n-r base.in\nbeta  # web\n",
                     "base.in": "alpha<2\nbeta\n", "constraints.txt": "gamma<1.3\n"})  # fmt: skip
    result = pin(tmp_path / "requirements.in", index_options=local(wheelhouse))
    assert list(result.files) == [str(tmp_path / "requirements.txt")]
    assert result.files[str(tmp_path / "requirements.txt")] == (None, (
        "# pinned from requirements.in by layerwise pin (pip's resolver): edit requirements.in, then run it again\n"
        "-c constraints.txt\nbeta==0.9  # web\nalpha==1.2\n"
        f"{DEPENDENCIES_HEADER}\ngamma==1.1\n"
    ))
    result.write()
    assert (tmp_path / "requirements.in").read_text() == "-c constraints.txt\n-r base.in\nbeta  # web\n"
    assert not pin(tmp_path / "requirements.in", index_options=local(wheelhouse)).changed


@pytest.mark.slow
def test_a_crlf_requirements_txt_written_from_the_in_file_keeps_its_endings(tmp_path, wheelhouse, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    write(tmp_path, {"requirements.in": "alpha<2\n"})
    first = pin(tmp_path / "requirements.in", index_options=local(wheelhouse))
    text = first.files[str(tmp_path / "requirements.txt")][1]
    (tmp_path / "requirements.txt").write_bytes(text.replace("\n", "\r\n").encode())
    again = pin(tmp_path / "requirements.in", index_options=local(wheelhouse))
    assert not again.changed  # the same pins in CRLF: nothing to write


def test_index_options_go_to_tools_that_take_them(tmp_path, fake_tools):
    uv = write(tmp_path / "uv", {"pyproject.toml": "[tool.uv]\n"})
    pin(uv, index_options=["--no-index", "--find-links", "/w"])
    assert fake_tools.read_text().splitlines() == ["uv lock --no-index --find-links /w"]
    poetry = write(tmp_path / "poetry", {"pyproject.toml": "[tool.poetry]\n"})
    with pytest.raises(LayerwiseError, match="poetry takes its package index from the project's own configuration"):
        pin(poetry, index_options=["--index-url", "https://x/simple"])


# ------------------------------------------------------------------ no duplicate pins
@pytest.mark.slow
def test_a_dependency_named_later_is_not_pinned_twice(tmp_path, wheelhouse):
    """The dependency block is pin's own: rewritten on each run, it never repeats a package the
    requirements above it name (here gamma, first pulled in by beta, then named by the user)."""
    req = tmp_path / "requirements.txt"
    write(tmp_path, {"requirements.txt": "alpha>=1,<2\nbeta\n"})
    pin(req, index_options=local(wheelhouse)).write()
    assert req.read_text() == f"alpha==1.2\nbeta==0.9\n{DEPENDENCIES_HEADER}\ngamma==1.4\n"
    req.write_text(req.read_text().replace("beta==0.9\n", "beta==0.9\ngamma>=1  # we use it too\n"))
    result = pin(req, index_options=local(wheelhouse))
    assert result.files[str(req)][1] == "alpha==1.2\nbeta==0.9\ngamma==1.4  # we use it too\n"
    result.write()
    assert not pin(req, index_options=local(wheelhouse)).changed


@pytest.mark.slow
def test_an_old_block_with_duplicates_is_written_anew(tmp_path, wheelhouse):
    req = tmp_path / "requirements.txt"
    write(tmp_path, {"requirements.txt": f"beta\ngamma\n{DEPENDENCIES_HEADER}\ngamma==1.4\ngamma==1.4\n"})
    new = pin(req, index_options=local(wheelhouse)).files[str(req)][1]
    assert new == "beta==0.9\ngamma==1.4\n"
    assert sum(1 for ln in new.splitlines() if ln.startswith("gamma")) == 1


@pytest.mark.slow
def test_requirements_in_lists_a_package_once_with_all_its_extras(tmp_path, wheelhouse, monkeypatch):
    monkeypatch.setattr("layerwise.pin.shutil.which", lambda name: None)  # no pip-compile, no uv
    write(tmp_path, {"requirements.in": 'delta\ndelta[fast]\nalpha ; python_version < "3.8"\n'
                                        'alpha>=1,<2 ; python_version >= "3.8"\n-r more.in\n',
                     "more.in": "delta\n"})  # fmt: skip
    result = pin(tmp_path / "requirements.in", index_options=local(wheelhouse))
    lines = result.files[str(tmp_path / "requirements.txt")][1].splitlines()
    assert [ln for ln in lines if ln.startswith("delta")] == ["delta[fast]==3.0"]
    assert 'alpha ; python_version < "3.8"' in lines and 'alpha==1.2 ; python_version >= "3.8"' in lines
    assert lines.count("gamma==1.1") == 1
    assert any("requirements.in:3: alpha: its marker is false for Python 3." in n for n in result.notes)


# ------------------------------------------------------------------ the image's Python
NEXT = f"{sys.version_info[0]}.{sys.version_info[1] + 1}"  # a Python newer than this host's
HOST = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture(scope="module")
def versioned_wheels(tmp_path_factory) -> Path:
    """omega 2.0 has a wheel for CPython NEXT only (as a binary package that dropped this host's
    Python has), 1.0 one for any Python; kappa 1.0 has a wheel for this host's CPython only."""
    d = tmp_path_factory.mktemp("versioned")
    make_wheel(d, "omega", "1.0")
    make_wheel(d, "omega", "2.0", tag=f"cp{NEXT.replace('.', '')}-none-any")
    make_wheel(d, "kappa", "1.0", tag=f"cp{HOST.replace('.', '')}-none-any")
    return d


def _image_project(tmp_path, image: str, requirements: str = "omega\n") -> Path:
    return write(tmp_path / "proj", {"Dockerfile": f"ARG PY=3\nFROM {image} AS app\nCOPY . .\n",
                                     "requirements.txt": requirements})  # fmt: skip


@pytest.mark.slow
def test_resolves_for_the_images_python(tmp_path, versioned_wheels):
    proj = _image_project(tmp_path, "python:${PY}." + NEXT.split(".")[1] + "-slim")
    result = pin(proj, index_options=local(versioned_wheels))
    assert result.files[str(proj / "requirements.txt")][1] == "omega==2.0\n"
    assert any(f"resolved for the image's Python {NEXT} (Dockerfile:2)" in n and "wheels only" in n for n in result.notes)
    host = pin(proj, index_options=local(versioned_wheels), python_version=HOST)
    assert host.files[str(proj / "requirements.txt")][1] == "omega==1.0\n"  # what this host's Python gets


@pytest.mark.slow
def test_without_wheels_for_the_images_python_it_says_so(tmp_path, versioned_wheels):
    proj = _image_project(tmp_path, "python:3.7-slim", "kappa\n")
    result = pin(proj, index_options=local(versioned_wheels))
    assert result.files[str(proj / "requirements.txt")][1] == "kappa==1.0\n"  # the host's resolution
    (note,) = [n for n in result.notes if "image's" in n]
    host = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert note.startswith(f"resolved for this host's Python {host}, not the image's 3.7 (Dockerfile:2)")
    assert "pass --python with a Python 3.7" in note


@pytest.mark.slow
def test_an_interpreter_given_is_used_with_a_warning(tmp_path, versioned_wheels):
    proj = _image_project(tmp_path, "python:3.7-slim")
    result = pin(proj, python=sys.executable, index_options=local(versioned_wheels))
    host = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert any(n.startswith(f"resolved for {sys.executable} (Python {host}), but the image runs Python 3.7") for n in result.notes)


def test_uv_pip_compile_resolves_for_the_images_python(tmp_path, fake_tools):
    proj = write(tmp_path / "p", {"requirements.in": "alpha\n", "uv.lock": "", "pyproject.toml": "",
                                  ".python-version": "3.12.4\n"})  # fmt: skip
    result = pin(proj / "requirements.in")
    assert fake_tools.read_text().splitlines() == [
        "uv pip compile --python-version 3.12 --quiet requirements.in -o requirements.txt"]  # fmt: skip
    assert any("image's Python 3.12 (.python-version)" in n for n in result.notes)


@pytest.mark.parametrize(("ref", "version"), [
    ("python:3.12-slim", "3.12"), ("python:3.11.9-bookworm", "3.11"), ("docker.io/library/python:3.10", "3.10"),
    ("ghcr.io/astral-sh/uv:python3.12-bookworm-slim", "3.12"), ("python:3", None), ("python:latest", None),
    ("mypython:3.12", None), ("node:20", None), ("gcr.io/distroless/python3-debian12", None),
])  # fmt: skip
def test_version_of_image(ref, version):
    from layerwise.pin.python import version_of_image

    assert version_of_image(ref) == version


def test_image_python_follows_the_final_stage_and_then_the_others(tmp_path):
    from layerwise.pin.python import ImagePython, image_python

    write(tmp_path, {"Dockerfile": "ARG V=3.11\nFROM python:${V}-slim AS build\nRUN pip wheel .\n"
                                   "FROM build AS final\nCOPY . .\n"})  # fmt: skip
    assert image_python(tmp_path) == ImagePython("3.11", "Dockerfile:2")
    write(tmp_path, {"Dockerfile": "FROM python:3.12 AS build\nRUN x\nFROM gcr.io/distroless/python3\nCOPY --from=build / /\n"})
    assert image_python(tmp_path) == ImagePython("3.12", "Dockerfile:1")
    write(tmp_path, {"Dockerfile": "FROM python:3.12-alpine3.20\n"})
    assert image_python(tmp_path) == ImagePython("3.12", "Dockerfile:1", musl=True)
    write(tmp_path, {"Dockerfile": "FROM debian:12\n", ".python-version": "cpython-3.10.14\n"})
    assert image_python(tmp_path) == ImagePython("3.10", ".python-version")
    sub = write(tmp_path / "app", {"requirements.txt": "x\n"})
    assert image_python(sub) == ImagePython("3.10", ".python-version")  # the project's, one folder up


def test_cli_rejects_a_bad_python_version(tmp_path):
    write(tmp_path, {"requirements.txt": "alpha\n"})
    r = run_cli(["pin", str(tmp_path), "--python-version", "three"])
    assert r.exit_code == 2 and "X.Y, e.g. 3.12" in r.output


# ------------------------------------------------------------------ the scratch copy: only what the resolver reads
@pytest.fixture
def listing_tools(tmp_path, monkeypatch):
    """poetry, uv and pip-compile stand-ins that record every file of the folder they run in
    (``listing``) and write the file the real one would."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "listing"
    script = """#!{python}
import os, sys
from pathlib import Path
names = sorted(os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") for f in fs)
open({log!r}, "w").write("\\n".join(names) + "\\n")
name, args = Path(sys.argv[0]).name, sys.argv[1:]
if name == "pip-compile" or args[:2] == ["pip", "compile"]:
    Path(args[args.index("--output-file" if "--output-file" in args else "-o") + 1]).write_text("alpha==1.2\\n")
else:
    Path({{"poetry": "poetry.lock", "uv": "uv.lock"}}[name]).write_text("locked\\n")
"""
    for name in ("poetry", "uv", "pip-compile"):
        exe = bin_dir / name
        exe.write_text(script.format(python=sys.executable, log=str(log)))
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def _sparse(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.truncate(size)


def test_the_tool_runs_on_the_project_files_only(tmp_path, listing_tools):
    proj = write(tmp_path / "p", {"pyproject.toml": "[tool.poetry]\nname = 'x'\n[tool.poetry.dependencies]\n"
                                                    "mylib = {path = 'libs/mylib', develop = true}\n",
                                  "poetry.lock": "old\n", "app/main.py": "print(1)\n", "README.md": "hi\n",
                                  "libs/mylib/pyproject.toml": "[project]\nname='mylib'\n",
                                  "libs/mylib/mylib/__init__.py": "", "libs/other/x.py": ""})  # fmt: skip
    _sparse(proj / "data" / "disk.img", 2 * 1024**3)  # the 2 GB sparse file of the report
    _sparse(proj / "libs" / "mylib" / "model.bin", 100 * 1024**2)
    result = pin(proj)
    assert listing_tools.read_text().split() == [
        "libs/mylib/mylib/__init__.py", "libs/mylib/pyproject.toml", "poetry.lock", "pyproject.toml"]  # fmt: skip
    assert result.files[str(proj / "poetry.lock")][1] == "locked\n"
    assert any("libs/mylib/model.bin (100 MB) was not copied" in n for n in result.notes)


def test_requirements_in_with_includes_and_a_local_package(tmp_path, listing_tools):
    proj = write(tmp_path / "p", {"requirements.in": "-r base/common.in\n-c constraints.txt\n-e ./pkg\nalpha\n",
                                  "base/common.in": "-r more.in\n", "base/more.in": "beta\n",
                                  "constraints.txt": "gamma<2\n", "requirements.txt": "alpha==1.0\n",
                                  "pkg/setup.py": "", "pkg/src/pkg.py": "", "src/app.py": "", "notes.txt": ""})  # fmt: skip
    _sparse(proj / "big.iso", 2 * 1024**3)
    pin(proj, tool="pip-compile")
    assert listing_tools.read_text().split() == [
        "base/common.in", "base/more.in", "constraints.txt", "pkg/setup.py", "pkg/src/pkg.py", "requirements.in",
        "requirements.txt"]  # fmt: skip


def test_a_project_whose_metadata_is_built_is_copied_without_its_big_files(tmp_path, listing_tools):
    proj = write(tmp_path / "p", {"pyproject.toml": "[project]\nname = 'x'\ndynamic = ['version']\n"
                                                    "[tool.uv.workspace]\nmembers = ['packages/*']\n",
                                  "uv.lock": "", "x/__init__.py": "__version__ = '1'\n",
                                  "packages/a/pyproject.toml": "", ".git/HEAD": "ref\n", ".venv/bin/python": ""})  # fmt: skip
    _sparse(proj / "dump.sql", 2 * 1024**3)
    result = pin(proj)
    assert listing_tools.read_text().split() == ["packages/a/pyproject.toml", "pyproject.toml", "uv.lock", "x/__init__.py"]
    assert any(n.startswith("dump.sql (2048 MB) was not copied") for n in result.notes)
