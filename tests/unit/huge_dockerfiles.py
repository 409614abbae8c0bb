"""Generators of big Dockerfiles for the memory and size tests (and docs/benchmarks.md).

* :func:`realistic` -- short instructions as generated Dockerfiles have them: many stages, each
  ``FROM`` + ``ARG``/``ENV``/``WORKDIR``, then groups of ``COPY``/``RUN``/``ENV``/``ARG`` lines
  (with comments above, ``$VAR`` expansions, ``COPY --from`` the previous stage), ``USER``,
  ``CMD``. Lines repeat from stage to stage, as in real generated files.
* :func:`distinct` -- one stage, every instruction different (nothing to share).
"""

from __future__ import annotations

from collections.abc import Iterator


def realistic_lines() -> Iterator[str]:
    yield "# syntax=docker/dockerfile:1\n"
    yield "ARG PY=3.12\n"
    stage = 0
    while True:
        yield f"FROM python:${{PY}}-slim AS s{stage}\n"
        yield "ARG VERSION=1.2.3\n"
        yield "ENV APP_HOME=/srv/app PORT=8000\n"
        yield "WORKDIR $APP_HOME\n"
        for k in range(10):
            yield "# install the dependencies\n"
            yield f"COPY requirements-{k}.txt ./\n"
            yield f"RUN pip install --no-cache-dir -r requirements-{k}.txt\n"
            yield f"ENV STEP={k} VERSION_TAG=v$VERSION\n"
            yield "RUN apt-get update && apt-get install -y curl\n"
            yield f"ARG BUILD_{k % 3}=x\n"
            if stage:
                yield f"COPY --from=s{stage - 1} /srv/app/out /srv/app/in\n"
            yield "COPY . .\n"
        yield "USER app\n"
        yield 'CMD ["python", "-m", "app"]\n'
        stage += 1


def distinct_lines() -> Iterator[str]:
    yield "FROM python:3.12-slim\n"
    i = 0
    while True:
        yield (
            f"RUN echo step {i} && touch /tmp/f{i}\n",
            f"ENV K{i % 64}=value{i}\n",
            f"COPY src/f{i}.py /app/f{i}.py\n",
            f'LABEL l{i % 64}="{i}"\n',
        )[i % 4]
        i += 1


def _take(lines: Iterator[str], *, instructions: int | None = None, size: int | None = None) -> str:
    out = []
    n = total = 0
    for line in lines:
        out.append(line)
        total += len(line)
        n += not line.startswith("#")
        if (instructions is not None and n >= instructions) or (size is not None and total >= size):
            break
    return "".join(out)


def realistic(*, instructions: int | None = None, size: int | None = None) -> str:
    """About ``instructions`` instructions, or ``size`` characters (whole lines)."""
    return _take(realistic_lines(), instructions=instructions, size=size)


def distinct(*, instructions: int | None = None, size: int | None = None) -> str:
    return _take(distinct_lines(), instructions=instructions, size=size)


def write(path, text_or_lines, size: int) -> None:
    """Write ``size`` bytes (whole lines) of a generator to ``path`` without building the text."""
    with open(path, "w", encoding="utf-8") as f:
        total = 0
        for line in text_or_lines:
            f.write(line)
            total += len(line)
            if total >= size:
                break
