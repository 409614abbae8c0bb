import pytest

from layerwise.analyses.rules.lw401_unpinned_requirement import unpinned
from tests.unit.rules.helpers import catches, passes

CODE = "LW401"


@pytest.mark.parametrize(
    "req,why",
    [
        ("flask", "no version"),
        ("flask>=2", "version range"),
        ("flask>=2,<3", "version range"),
        ("flask~=2.0", "compatible-release range (~=)"),
        ("flask==2.*", "wildcard version (==X.*)"),
        ("git+https://github.com/pallets/flask@main", "VCS branch or tag, not a commit"),
        ("flask @ git+https://github.com/pallets/flask@3.0.3", "VCS branch or tag, not a commit"),
        ("https://example.com/flask-3.0.3.tar.gz", "URL without a hash"),
        ("-e git+https://github.com/pallets/flask", "editable (-e) requirement"),
        ("flask==3.0.3", None),
        ("flask[async]==3.0.3 ; python_version >= '3.8'", None),
        ("flask===3.0.3", None),
        ("git+https://github.com/pallets/flask@" + "a" * 40, None),
        ("https://example.com/flask-3.0.3.tar.gz#sha256=" + "b" * 64, None),
        ("./libs/mylib", None),
    ],
)
def test_unpinned(req, why):
    assert unpinned(req) == why


CATCHES = [
    # a local wheelhouse next to an index, or links fetched over HTTP: the versions may change
    ("FROM python:3.12\nRUN pip install --find-links=/wheels mitmproxy\n", 2),
    ("FROM python:3.12\nRUN pip install --no-index -f https://example.com/links/ mitmproxy\n", 2),
    ("FROM python:3.12\nRUN pip install flask gunicorn\n", 2),
    ('FROM python:3.12\nRUN pip install "flask>=2"\n', 2),
    ("FROM python:3.12\nRUN uv pip install --system flask\n", 2),
    ("FROM python:3.12\nRUN pip install -e git+https://github.com/x/y#egg=y\n", 2),
]
PASSES = [
    # only a local wheelhouse (--no-index): the versions are the wheels', pinned where they are built
    # (a `pip wheel` in the Dockerfile is judged there); realproj item 16, mitmproxy
    "FROM python:3.12\nCOPY wheels /wheels\nRUN pip install --no-index --find-links=/wheels mitmproxy\n",
    "FROM python:3.12\nRUN uv pip install --system --no-index --find-links /wheels mitmproxy\n",
    "FROM python:3.12\nRUN pip install flask==3.0.3\n",
    "FROM python:3.12\nRUN pip install --upgrade pip setuptools wheel\n",
    "FROM python:3.12\nRUN pip install -r requirements.txt\n",
    "FROM python:3.12\nCOPY . .\nRUN pip install .\n",
    # uv's option values and its --requirements spelling (paperless-ngx's Dockerfile): no package named
    # "system" or "requirements.txt"
    "FROM python:3.12\nRUN uv export --format requirements-txt --output-file requirements.txt \\\n"
    "    && uv pip install --no-cache --system --python-preference system --requirements requirements.txt\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


def test_requirements_files_followed():
    found = catches(CODE, "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.txt\n",
                    {"requirements.txt": "flask==3.0.3\n-r base.txt\n", "base.txt": "# c\nclick>=8\n"})  # fmt: skip
    assert [(f.path.rsplit("/", 1)[-1], f.line) for f in found] == [("base.txt", 2)]


def test_constraints_pin():
    passes(CODE, "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.in -c constraints.txt\n",
           {"requirements.in": "click\n", "constraints.txt": "click==8.1.7\n"})  # fmt: skip


def test_pyproject_ranges_without_lock():
    catches(CODE, "FROM python:3.12\nCOPY . .\nRUN pip install .\n",
            {"pyproject.toml": '[project]\nname="a"\nversion="1"\ndependencies=["flask>=2"]\n'}, line=3)  # fmt: skip


def test_packages_named_by_a_variable_are_not_the_project():
    # prefect: `uv pip install "${EXTRA_PIP_PACKAGES}"` was said to resolve pyproject.toml's ranges
    pyproject = {"pyproject.toml": '[project]\nname="a"\nversion="1"\ndependencies=["flask>=2"]\n'}
    for run in ('uv pip install "${EXTRA_PIP_PACKAGES}"', "pip install $EXTRA"):
        passes(CODE, f"FROM python:3.12\nARG EXTRA=\nCOPY . .\nRUN {run}\n", pyproject)


def test_project_installed_alone_after_a_lock_is_not_unpinned():
    files = {"requirements.txt": "flask==3.0.3\n", "pyproject.toml": '[project]\nname = "x"\nversion = "1"\ndependencies = ["flask"]\n'}
    head = "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .\n"
    passes(CODE, head + "RUN pip install --no-deps .\n", files)
    catches(CODE, head + "RUN pip install .\n", files, line=6)


def test_requirements_copied_to_an_absolute_path_are_read():
    files = {"requirements.txt": "-r base.txt\n", "base.txt": "flask\n"}
    found = catches(CODE, "FROM python:3.12\nCOPY requirements.txt base.txt /etc/\nRUN pip install -r /etc/requirements.txt\n", files)
    assert any(f.path.endswith("base.txt") for f in found)


H = "--hash=sha256:" + "a" * 64


@pytest.mark.parametrize(("line", "message"), [
    # netbox-docker requirements-container.txt:4 (was: "is not pinned (version range)", the comma)
    ("python3-saml==1.16.0 --no-binary lxml,xmlsec", None),
    ("foo==1.0 --no-binary lxml", None),
    ("foo==1.0 -C build-option=--x,--y", None),
    ('foo==1.0 --global-option="--with-a,b"', None),
    (f'foo==1.0 ; python_version < "3.11" {H}', None),
    (f"foo==1.0 \\\n    {H} \\\n    {H}", None),
    # a URL is pinned by the --hash option of its line
    (f"foo @ https://example.com/foo-1.0.tar.gz {H}", None),
    ("foo @ https://example.com/foo-1.0.tar.gz --no-binary foo", "foo @ https://example.com/foo-1.0.tar.gz is not pinned (URL without a hash)"),
    # the options are not the version, nor in the message
    ("foo --no-binary :all:", "foo is not pinned (no version)"),
    (f"foo>=1,<2 {H}", "foo>=1,<2 is not pinned (version range)"),
    ("foo~=1.0 --config-settings=a=b,c", "foo~=1.0 is not pinned (compatible-release range (~=))"),
    ('foo>=1 ; python_version < "3.11" --no-binary foo', 'foo>=1 ; python_version < "3.11" is not pinned (version range)'),
])  # fmt: skip
def test_per_line_options_are_separated_from_the_requirement(line, message):
    """pip's requirement lines end with per-requirement options (--hash, -C/--config-settings,
    --global-option, --no-binary...): the version is judged on the requirement alone."""
    from tests.unit.rules.helpers import findings

    found = findings(CODE, "FROM python:3.12\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n",
                     {"requirements.txt": line + "\n"})  # fmt: skip
    assert [f.message for f in found] == ([] if message is None else [message])


def test_a_constraint_with_options_pins():
    passes(CODE, "FROM python:3.12\nCOPY . .\nRUN pip install -r requirements.in -c constraints.txt\n",
           {"requirements.in": "lxml\n", "constraints.txt": "lxml==5.3.0 --no-binary lxml,xmlsec\n"})  # fmt: skip



def test_a_local_wheelhouse_install_judges_the_wheel_build_not_the_install():
    files = {"requirements.txt": "flask\n"}
    built = "FROM python:3.12 AS wheels\nCOPY requirements.txt .\nRUN pip wheel -w /wheels -r requirements.txt\n"
    final = "FROM python:3.12\nCOPY --from=wheels /wheels /wheels\nCOPY requirements.txt .\n"
    found = catches(CODE, built + final + "RUN pip install --no-index -f /wheels -r requirements.txt\n", files)
    assert [f.line for f in found] == [1]  # requirements.txt:1, once: through the pip wheel
    passes(CODE, "FROM python:3.12\nCOPY requirements.txt wheels/ /w/\nRUN pip install --no-index -f /w -r /w/requirements.txt\n", files)
