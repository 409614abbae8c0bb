import pytest

from tests.unit.rules.helpers import catches, findings, passes

CODE = "LW201"

CATCHES = [
    ("FROM python:3.12\nRUN pip install flask==3.0.3\n", 2),
    ("FROM python:3.12\nRUN python3 -m pip install -r requirements.txt\n", 2),
    ("FROM python:3.12\nRUN uv pip install --system flask\n", 2),
    ("FROM python:3.12\nRUN uv sync --locked\n", 2),
    ("FROM python:3.12\nRUN poetry install --no-root\n", 2),
    ("FROM python:3.12\nRUN apt-get update && \\\n    pip install flask\n", 3),
    ("FROM continuumio/miniconda3:24.1.2-0\nRUN conda install -y numpy=1.26\n", 2),
    # PDM keeps wheels in /root/.cache/pdm (32 MB left in one real image)
    ("FROM python:3.12\nRUN pdm install --prod --frozen-lockfile\n", 2),
    # upgrading the tools downloads wheels into the cache too (django-on-docker, issue 13)
    ("FROM python:3.12\nRUN pip install --upgrade pip\n", 2),
    ("FROM python:3.12\nRUN pip install -U pip\n", 2),
    ("FROM python:3.12\nRUN python -m pip install --upgrade pip setuptools wheel\n", 2),
    ("FROM python:3.12\nRUN pip install --upgrade pip && pip install --no-cache-dir -r requirements.txt\n", 2),
    # a stage only `--target` builds (vote-flask's dev image) holds the cache as well
    ("FROM python:3.12 AS base\nRUN pip install --no-cache-dir flask\nFROM base AS dev\nRUN pip install watchdog\n"
     "FROM base AS final\nCOPY . .\n", 4),
    ("FROM python:3.12 AS test\nRUN pip install pytest\nFROM python:3.12\nRUN pip install --no-cache-dir flask\n", 2),
    # not only a local wheelhouse: an index, links fetched over HTTP, an sdist pip builds (and
    # caches the wheel it builds), uv (its cache keeps local wheels too)
    ("FROM python:3.12\nRUN pip install --find-links=/wheels mitmproxy\n", 2),
    ("FROM python:3.12\nRUN pip install --no-index --find-links https://example.com/wheels/ mitmproxy\n", 2),
    ("FROM python:3.12\nRUN pip install --no-index -f /src /src/demo-1.0.tar.gz\n", 2),
    ("FROM python:3.12\nRUN uv pip install --system --no-index --find-links /wheels mitmproxy\n", 2),
]
PASSES = [
    # only a local wheelhouse (mitmproxy's release Dockerfile): pip fetches nothing over HTTP, and
    # wheels need no build, so its cache stays empty (realproj item 16; checked with pip 23.2)
    "FROM python:3.12\nCOPY wheels /wheels\nRUN pip install --no-index --find-links=/wheels mitmproxy\n",
    "FROM python:3.12\nRUN pip install --no-index -f /wheels -r /wheels/requirements.txt\n",
    "FROM python:3.12\nRUN pip install --no-index --find-links file:///wheels /wheels/demo-1.0-py3-none-any.whl\n",
    "FROM python:3.12\nENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels\nRUN pip install mitmproxy\n",
    "FROM python:3.12\nRUN pip install --no-cache-dir flask\n",
    "FROM python:3.12\nRUN pip3 --no-cache-dir install flask\n",
    "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n",
    "FROM python:3.12\nRUN PIP_NO_CACHE_DIR=off pip install flask\n",
    "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\n",
    "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache pip install flask\n",
    "FROM python:3.12\nRUN pip install flask && rm -rf /root/.cache/pip\n",
    "FROM python:3.12\nRUN uv sync --no-cache\n",
    "FROM python:3.12\nENV UV_NO_CACHE=1\nRUN uv pip install --system flask\n",
    "FROM python:3.12 AS build\nRUN pip install flask\nFROM python:3.12\nCOPY --from=build /usr/local /usr/local\n",
    "FROM continuumio/miniconda3:24.1.2-0\nRUN conda install -y numpy && conda clean -afy\n",
    "FROM python:3.12\nRUN pip install /wheels/*.whl\n",
    # microsoft/presidio: the cache folder asked of Poetry itself, removed
    "FROM python:3.12\nRUN pip install --no-cache-dir poetry==2.3.2 \\\n    && poetry install --no-root \\\n    && rm -rf $(poetry config cache-dir)\n",
    "FROM python:3.12\nRUN PDM_NO_CACHE=1 pdm install --prod\n",
    "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pdm pdm install --prod\n",
    "FROM python:3.12\nRUN pip install --no-cache-dir --upgrade pip setuptools wheel\n",
    # builders only copied from do not ship their layers, also through a stage built FROM them
    "FROM python:3.12 AS build\nRUN pip install flask\nFROM build AS wheels\nRUN echo\n"
    "FROM python:3.12\nCOPY --from=wheels /usr/local /usr/local\n",
    "FROM python:3.12 AS build\nRUN pip download flask -d /w\nFROM python:3.12\n"
    "RUN --mount=from=build,source=/w,target=/w pip install --no-cache-dir --no-index -f /w flask\n",
]


@pytest.mark.parametrize("dockerfile,line", CATCHES)
def test_catches(dockerfile, line):
    catches(CODE, dockerfile, line=line)


@pytest.mark.parametrize("dockerfile", PASSES)
def test_passes(dockerfile):
    passes(CODE, dockerfile)


def test_fix_adds_no_cache_dir():
    from layerwise.fixes.edits import TextEdit, apply_edits

    text = "FROM python:3.12\nRUN pip install flask==3.0.3\n"
    (f,) = findings(CODE, text)
    assert f.fix is not None and f.fix.safety == "safe"
    new = apply_edits(text, [TextEdit(e.start_offset, e.end_offset, e.replacement) for e in f.fix.edits])
    assert new == "FROM python:3.12\nRUN pip install --no-cache-dir flask==3.0.3\n"
    passes(CODE, new)


def _fix_of(dockerfile: str, cache_mount: bool):
    from layerwise.analyses.project import ProjectContext
    from layerwise.analyses.rules import RuleContext, get_rule
    from layerwise.parse import parse
    from layerwise.resolve.stages import resolve

    df = parse(dockerfile, "Dockerfile")
    ctx = RuleContext("Dockerfile", df, resolve(df, {}), ProjectContext(None, "Dockerfile"), cache_mount=cache_mount)
    return [f.fix for f in get_rule("LW201").check(ctx)]


def test_fix_mounts_the_cache_when_asked_and_the_folder_is_known():
    """``fix --cache-mount``: root's pip/uv caches are mounted; another user's, or Poetry's,
    get the option (their cache folder is not the one a fixed mount would name)."""
    from layerwise.fixes.edits import TextEdit, apply_edits

    root = "FROM python:3.12\nRUN pip install flask && uv pip install --system rich\n"
    fixes = _fix_of(root, cache_mount=True)
    assert [f.description for f in fixes] == ["mount a cache at /root/.cache/pip", "mount a cache at /root/.cache/uv"]
    edits = [TextEdit(e.start_offset, e.end_offset, e.replacement) for f in fixes for e in f.edits]
    assert apply_edits(root, edits) == (
        "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip --mount=type=cache,target=/root/.cache/uv"
        " pip install flask && uv pip install --system rich\n"
    )
    assert [f.description for f in _fix_of(root, cache_mount=False)] == ["add --no-cache-dir", "add --no-cache"]
    other = "FROM python:3.12\nUSER app\nRUN pip install flask\n"
    assert [f.description for f in _fix_of(other, cache_mount=True)] == ["add --no-cache-dir"]
    poetry = "FROM python:3.12\nRUN poetry install --only main\n"
    assert [f.description for f in _fix_of(poetry, cache_mount=True)] == ["add --no-cache"]
    exec_form = 'FROM python:3.12\nRUN ["pip", "install", "flask"]\n'
    # the RUN already keeps the cache out with the option elsewhere: the option, not a mount
    # (a mount would make that other option a new LW202 finding the check never showed)
    mixed = "FROM python:3.12\nRUN pip install -U pip && pip install --no-cache /w/*.whl\n"
    assert [f.description for f in _fix_of(mixed, cache_mount=True)] == ["add --no-cache-dir"]
    assert all(f is None or "mount" not in f.description for f in _fix_of(exec_form, cache_mount=True))


@pytest.mark.parametrize(("dockerfile", "fixed"), [
    ("RUN pip install poetry==1.1 && poetry install --no-dev\n", False),
    ("ENV POETRY_VERSION=1.1.13\nRUN curl -sSL https://install.python-poetry.org | python3 -\nRUN poetry install\n", False),
    ("RUN pip install 'poetry<1.2'\nRUN poetry install\n", False),
    ("RUN pip install poetry==1.1.*\nRUN poetry install\n", False),
    ('ENV POETRY_VERSION 1.8.0\nRUN pip install "poetry==$POETRY_VERSION"\nRUN poetry install\n', True),
    ("RUN pip install 'poetry~=1.1'\nRUN poetry install\n", True),  # >=1.1,<2: today's 1.x has it
    ("RUN pip install poetry==2.1.4\nRUN poetry install\n", True),
    ("RUN poetry install\n", True),  # not pinned: a current Poetry
])  # fmt: skip
def test_no_fix_for_a_poetry_older_than_its_no_cache_option(dockerfile, fixed):
    """Poetry has --no-cache from 1.2 (python-poetry/poetry#5519): on a Poetry pinned below,
    the fix would break the build, so there is only a hint."""
    found = [f for f in catches(CODE, "FROM python:3.12\n" + dockerfile) if "poetry" in f.message]
    assert len(found) == 1
    assert (found[0].fix is not None) == fixed, found[0]
    if not fixed:
        assert "predates --no-cache" in found[0].hint


@pytest.mark.parametrize(("env", "target"), [
    ("", "/root/.cache/pip"),
    ("ENV PIP_CACHE_DIR=/cache\n", "/cache"),
    ("ENV HOME=/var/app\n", "/var/app/.cache/pip"),  # pip's cache is under $HOME (corpus 008)
])  # fmt: skip
def test_the_mount_goes_where_the_install_keeps_its_cache(env, target):
    """A mount on /root/.cache/pip does not take a cache kept elsewhere out of the layer."""
    (fix,) = _fix_of(f"FROM python:3.12\n{env}RUN pip install flask\n", cache_mount=True)
    assert fix.description == f"mount a cache at {target}"
    assert [e.replacement for e in fix.edits] == [f" --mount=type=cache,target={target}"]


def test_pdm_fix_is_the_global_option():
    from tests.unit.rules.fixtable import fixed

    assert fixed(CODE, "FROM python:3.12\nRUN pdm install --prod\n") == "FROM python:3.12\nRUN pdm --no-cache install --prod\n"
    assert fixed(CODE, "FROM python:3.12\nRUN python -m pdm sync -G web\n") == "FROM python:3.12\nRUN python -m pdm --no-cache sync -G web\n"


@pytest.mark.parametrize(("before", "after"), [
    ("RUN pip install --upgrade pip\n", "RUN pip install --no-cache-dir --upgrade pip\n"),
    ("RUN python -m pip install -U pip setuptools wheel\n", "RUN python -m pip install --no-cache-dir -U pip setuptools wheel\n"),
    # only the install that keeps its cache gets the option, once
    ("RUN pip install -U pip && pip install --no-cache-dir -r r.txt\n", "RUN pip install --no-cache-dir -U pip && pip install --no-cache-dir -r r.txt\n"),
    ("RUN pip install --no-cache-dir -r r.txt \\\n && pip install gunicorn\n", "RUN pip install --no-cache-dir -r r.txt \\\n && pip install --no-cache-dir gunicorn\n"),
    ("RUN pip install -U pip \\\n && pip install --no-cache /w/*.whl\n", "RUN pip install --no-cache-dir -U pip \\\n && pip install --no-cache /w/*.whl\n"),
])  # fmt: skip
def test_fix_of_what_check_reports_adds_the_option_where_it_is_missing(before, after):
    """check reports the tool upgrade, so fix fixes it; an install that has the option keeps one."""
    from tests.unit.rules.fixtable import fixed

    assert fixed(CODE, "FROM python:3.12\n" + before) == "FROM python:3.12\n" + after


@pytest.mark.parametrize(("before", "after"), [
    # the same text in an echo (realproj item 6: changedetection.io's "**** pip3 install test ...")
    ('RUN echo "step: pip install deps" > /build-notes.txt && pip install -U pip\n',
     'RUN echo "step: pip install deps" > /build-notes.txt && pip install --no-cache-dir -U pip\n'),
    ("RUN echo 'pip install x' && pip3 install flask && uv sync && echo \"uv sync\"\n",
     "RUN echo 'pip install x' && pip3 install --no-cache-dir flask && uv sync --no-cache && echo \"uv sync\"\n"),
    ('RUN poetry install && echo "poetry install done"\n', 'RUN poetry install --no-cache && echo "poetry install done"\n'),
    ('RUN echo "pdm install" && pdm install --prod\n', 'RUN echo "pdm install" && pdm --no-cache install --prod\n'),
    # in a comment, on the RUN's line or on a comment line inside the continuation
    ("RUN pip install flask # then pip install x\n", "RUN pip install --no-cache-dir flask # then pip install x\n"),
    ("RUN set -e; \\\n  # pip install comment\n  pip install flask\n", "RUN set -e; \\\n  # pip install comment\n  pip install --no-cache-dir flask\n"),
    # the words of the install, wherever they are: on two lines, after a global option, in sh -c
    ("RUN pip \\\n  install flask\n", "RUN pip \\\n  install --no-cache-dir flask\n"),
    ("RUN pip --quiet install flask\n", "RUN pip --quiet install --no-cache-dir flask\n"),
    ('RUN bash -c "pip install flask"\n', 'RUN bash -c "pip install --no-cache-dir flask"\n'),
    ("RUN sh -c 'pip install flask \\\n  gunicorn'\n", "RUN sh -c 'pip install --no-cache-dir flask \\\n  gunicorn'\n"),
    ('RUN ["sh", "-c", "echo pip install; pip install flask"]\n', 'RUN ["sh", "-c", "echo pip install; pip install --no-cache-dir flask"]\n'),
    # a script the fix cannot place the option in (quotes inside sh -c's quotes): no edit at all
    ('RUN bash -c "echo \'pip install\' && pip install flask"\n', 'RUN bash -c "echo \'pip install\' && pip install flask"\n'),
])  # fmt: skip
def test_the_option_goes_only_into_the_words_of_the_install(before, after):
    """The edit lands after the reported install's own subcommand word: never in a quoted word,
    a comment or another command that holds the same text."""
    from layerwise.fixes.edits import TextEdit, apply_edits

    text = "FROM python:3.12\n" + before
    edits = [TextEdit(e.start_offset, e.end_offset, e.replacement) for f in _fix_of(text, cache_mount=False) if f for e in f.edits]
    assert apply_edits(text, edits) == "FROM python:3.12\n" + after


def test_the_option_goes_into_a_heredoc_script():
    from layerwise.fixes.edits import TextEdit, apply_edits

    text = 'FROM python:3.12\nRUN <<EOF\necho "pip install x"\npip install flask\nEOF\n'
    (fix,) = _fix_of(text, cache_mount=False)
    new = apply_edits(text, [TextEdit(e.start_offset, e.end_offset, e.replacement) for e in fix.edits])
    assert new == 'FROM python:3.12\nRUN <<EOF\necho "pip install x"\npip install --no-cache-dir flask\nEOF\n'


def test_the_finding_points_at_the_install_not_at_the_same_text_before_it():
    text = 'FROM python:3.12\nRUN echo "pip install -U pip" && \\\n    pip install -U pip\n'
    (f,) = findings(CODE, text)
    assert (f.line, f.column) == (3, 5)
