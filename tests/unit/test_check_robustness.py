"""Every rule survives any Dockerfile the parser accepts: a generated one either fails to
parse (a located LayerwiseError) or is checked without a rule error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerwise.analyses.check import check_dockerfile
from layerwise.errors import LayerwiseError
from tests.fuzz.strategies import dockerfile_texts

INSTALLS = st.sampled_from([
    "RUN pip install -r requirements.txt", "RUN --mount=type=cache,target=/root/.cache/pip pip install x",
    "RUN uv sync", "COPY . .", "ADD . /app", "USER app", "RUN apt-get update", "RUN apt-get install -y gcc",
    "ENV PIP_NO_CACHE_DIR=off", "ARG TOKEN", "CMD gunicorn app", "RUN poetry install --no-root",
    "RUN <<EOF\npip install 'x\nEOF", "RUN pip install 'unterminated", "COPY --from=img:latest /a /b",
    "WORKDIR /app", "RUN bash -c \"pip install -r r.txt\"", "RUN [\"pip\", \"install\", \"-e\", \".\"]",
])  # fmt: skip


def _check(tmp_path, text: str) -> None:
    df = tmp_path / "Dockerfile"
    df.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        result = check_dockerfile(df)
    except LayerwiseError as exc:
        assert exc.location is not None
        return
    assert not result.errors, result.errors


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(INSTALLS, min_size=1, max_size=8))
def test_rule_mixes(tmp_path, lines):
    _check(tmp_path, "FROM python:3.12\n" + "\n".join(lines) + "\n")


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dockerfile_texts())
def test_generated_dockerfiles(tmp_path, text):
    _check(tmp_path, text)
