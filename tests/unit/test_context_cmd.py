"""``layerwise context``: the report and the command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from layerwise.cli import main
from layerwise.context.ignore import IgnoreFile
from layerwise.context.report import CopySource, build_report
from layerwise.context.snapshot import Snapshot
from tests.shared import run_cli


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def make_tree(root: Path, spec: dict[str, str]) -> Path:
    for name, content in spec.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return root


PROJECT = {
    "Dockerfile": "FROM python:3.12\nCOPY . /app\n",
    "app/main.py": "print('hi')\n",
    "app/__pycache__/main.cpython-312.pyc": "x" * 100,
    "app/data/model.bin": "m" * 5000,
    ".venv/pyvenv.cfg": "home = /usr\n",
    ".venv/lib/site.py": "y" * 300,
    ".git/HEAD": "ref: refs/heads/main\n",
    ".env": "SECRET=1\n",
    ".env.example": "SECRET=\n",
    "deploy/server.pem": "-----BEGIN\n",
    "pkg.egg-info/PKG-INFO": "Name: pkg\n",
    ".dockerignore": ".git\n*.pyc\n",
}


def report_for(root: Path, copy_sources=None):
    ignore = IgnoreFile.read(root / ".dockerignore") if (root / ".dockerignore").exists() else None
    return build_report(Snapshot.take(root, ignore, use_cache=False), copy_sources, count_excluded=True)


def test_report_counts_junk_and_secrets(tmp_path) -> None:
    r = report_for(make_tree(tmp_path, PROJECT))
    assert r.ignore_file == str(tmp_path / ".dockerignore")
    assert (r.excluded_count, r.excluded_files) == (2, 1)  # .git and .git/HEAD
    assert [(e.pattern, e.line) for e in r.excluded_by_pattern] == [(".git", 1)]
    junk = {j.what: j for j in r.junk}
    assert set(junk) == {"__pycache__", "virtualenv", "*.egg-info"}
    assert junk["virtualenv"].paths == (".venv",) and junk["virtualenv"].files == 2
    assert junk["__pycache__"].suggestion == "**/__pycache__"
    assert [(s.path, s.copied_by) for s in r.secrets] == [(".env", ()), ("deploy/server.pem", ())]
    assert r.sent_files == sum(1 for n in PROJECT if not n.startswith(".git/"))
    assert r.heaviest[0].path == "app"


def test_root_only_pattern(tmp_path) -> None:
    r = report_for(make_tree(tmp_path, PROJECT))
    (ro,) = r.root_only_patterns
    assert (ro.pattern, ro.line, ro.files, ro.suggestion) == ("*.pyc", 2, 1, "**/*.pyc")
    assert ro.examples == ("app/__pycache__/main.cpython-312.pyc",)


def test_no_root_only_finding_when_nothing_deeper(tmp_path) -> None:
    r = report_for(make_tree(tmp_path, {"a.py": "", ".dockerignore": "*.pyc\n__pycache__\n"}))
    assert r.root_only_patterns == []


@pytest.mark.parametrize("ignore,files", [
    ("tests\n", {"tests/t.py": "", "app/tests/test_a.py": ""}),  # the app's own tests, run in the image
    ("/static/\n", {"static/a.css": "", "app/static/b.css": ""}),  # anchored on purpose
    ("./data\n", {"data/x.json": "", "src-ui/app/data/y.ts": ""}),
    ("*\n!src/**\n", {"README.md": "", "src/a.py": "", "src/pkg/b.py": ""}),  # an allow-list
])  # fmt: skip
def test_no_globstar_advice_for_names_that_may_mean_the_root(tmp_path, ignore, files) -> None:
    """Only junk in any folder (caches, bytecode, virtualenvs) gets the ``**/`` advice, as
    LW302 gives it: ``**/static`` or ``**/data`` would drop the application's own files
    (seen on real projects), and ``**/*`` everything."""
    r = report_for(make_tree(tmp_path, {".dockerignore": ignore, **files}))
    assert r.root_only_patterns == []


def test_secrets_with_copy_sources(tmp_path) -> None:
    root = make_tree(tmp_path, PROJECT)
    sources = [CopySource("app", None), CopySource(".", None), CopySource("*.txt", None)]
    r = report_for(root, sources)
    assert {s.path: [c.src for c in s.copied_by] for s in r.secrets} == {
        ".env": ["."],
        "deploy/server.pem": ["."],
    }


def test_cli_text(tmp_path) -> None:
    make_tree(tmp_path, PROJECT)
    result = run_cli(["context", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "\x1b[" not in out  # plain text when not a terminal
    for needle in ["Build context", ".dockerignore", "__pycache__", "**/__pycache__", ".env", "server.pem", "**/*.pyc"]:
        assert needle in out


def test_cli_json(tmp_path) -> None:
    make_tree(tmp_path, PROJECT)
    result = run_cli(["context", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    files = {f["path"]: f for f in data["files"]}
    assert files["app/main.py"]["digest"].startswith("sha256:")
    assert files["app/main.py"]["size"] == len("print('hi')\n")
    assert files["app"]["type"] == "dir"
    assert ".git/HEAD" not in files
    assert data["sent"]["files"] == sum(1 for f in data["files"] if f["type"] == "file")
    assert {s["path"] for s in data["secrets"]} == {".env", "deploy/server.pem"}


def test_cli_dockerfile_picks_its_ignore_file(tmp_path) -> None:
    make_tree(
        tmp_path,
        {
            "a.txt": "",
            "b.txt": "",
            ".dockerignore": "a.txt\n",
            "docker/prod.Dockerfile": "FROM x\n",
            "docker/prod.Dockerfile.dockerignore": "b.txt\n",
        },
    )
    result = run_cli(["context", str(tmp_path), "-f", str(tmp_path / "docker/prod.Dockerfile"), "--format", "json"]
    )
    data = json.loads(result.output)
    assert data["ignore_file"].endswith("prod.Dockerfile.dockerignore")
    paths = {f["path"] for f in data["files"]}
    assert "a.txt" in paths and "b.txt" not in paths


def test_cli_non_utf8_name(tmp_path) -> None:
    with open(os.fsencode(str(tmp_path)) + b"/id_rsa\xff", "wb") as f:
        f.write(b"k")
    (tmp_path / "id_rsa").write_text("k")
    text = run_cli(["context", str(tmp_path)])
    assert text.exit_code == 0 and "id_rsa" in text.output
    js = run_cli(["context", str(tmp_path), "--format", "json"])
    assert js.exit_code == 0
    assert len(json.loads(js.output)["files"]) == 2


@pytest.mark.parametrize(
    "args,needle",
    [
        (["context", "{tmp}/missing"], "build context does not exist"),
        (["context", "{tmp}", "-f", "{tmp}/nope.Dockerfile"], "Dockerfile not found"),
        (["context", "{tmp}/badignore"], ".dockerignore:2:1: syntax error in pattern"),
    ],
)
def test_cli_errors_are_one_line_exit_2(tmp_path, capsys, args, needle) -> None:
    make_tree(tmp_path / "badignore", {".dockerignore": "ok\n[\n"})
    argv = [a.format(tmp=tmp_path) for a in args]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert needle in err
    assert len(err.strip().splitlines()) == 1


def test_help_has_an_example() -> None:
    result = run_cli(["context", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "layerwise context" in result.output


CLASSIFY = [
    # (files, expected junk labels, expected secret paths)
    ({"pkg/__pycache__/a.pyc": "x", "pkg/a.py": ""}, {"__pycache__"}, set()),
    ({"loose.pyc": "x"}, {"*.pyc files"}, set()),
    ({"env/pyvenv.cfg": "", "env/lib/x.py": ""}, {"virtualenv"}, set()),
    ({".pytest_cache/v": "", ".mypy_cache/x": "", ".ruff_cache/y": "", ".tox/z": ""},
     {".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox"}, set()),
    ({"pyproject.toml": "", "dist/a.whl": "", "build/lib/a.py": "", "nb/.ipynb_checkpoints/x": ""},
     {"dist", "build", ".ipynb_checkpoints"}, set()),
    ({".aws/credentials": "k", ".aws/config": ""}, set(), {".aws"}),
    ({"home/.ssh/id_rsa": "k", "home/.ssh/id_rsa.pub": ""}, set(), {"home/.ssh"}),
    ({"keys/id_ed25519": "k", "keys/id_ed25519.pub": ""}, set(), {"keys/id_ed25519"}),
    ({".pypirc": "[pypi]\npassword = pypi-AgEI\n", ".netrc": "machine h login u password p\n",
      ".npmrc": "//registry.npmjs.org/:_authToken=npm_x\n", "tls.key": "", "site.pem": ""}, set(),
     {".pypirc", ".netrc", ".npmrc", "tls.key", "site.pem"}),
    # named like secrets, their text says otherwise (read, never shown): settings only, a token
    # from the environment, public certificates
    ({".npmrc": "engine-strict=true\n", "ui/.npmrc": "//r/:_authToken=${NPM_TOKEN}\n",
      "certs/ca-bundle.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      "certs/server.pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"},
     set(), {"certs/server.pem"}),
    ({".env": "", ".env.production": "", ".env.example": "", "config/.env.sample": ""}, set(),
     {".env", ".env.production"}),
]


@pytest.mark.parametrize("files,junk,secrets", CLASSIFY)
def test_classification(tmp_path, files, junk, secrets) -> None:
    r = report_for(make_tree(tmp_path, files))
    assert {j.what for j in r.junk} == junk
    assert {s.path for s in r.secrets} == secrets


@pytest.mark.parametrize(
    "ignore,files,suggestion,deeper",
    [
        ("__pycache__\n", {"__pycache__/a.pyc": "", "pkg/__pycache__/b.pyc": ""}, "**/__pycache__", 1),
        ("*.pyc\n", {"a.pyc": "", "pkg/b.pyc": "", "pkg/sub/c.pyc": ""}, "**/*.pyc", 2),
        (".DS_Store\n", {"x/.DS_Store": ""}, "**/.DS_Store", 1),
    ],
)
def test_root_only_table(tmp_path, ignore, files, suggestion, deeper) -> None:
    r = report_for(make_tree(tmp_path, {".dockerignore": ignore, **files}))
    assert [ro.suggestion for ro in r.root_only_patterns] == [suggestion]
    assert r.root_only_patterns[0].files == deeper
