"""The article's experiment, on a real engine, with both builders.

The bundled flask-demo has ``ADD . /app`` before ``RUN pip install``: changing
app.py must re-run pip. The article's optimized Dockerfile copies
requirements.txt first: changing app.py must leave pip CACHED and re-run only
``COPY . .``. Every assertion reads the engine's own build report.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import layerwise

pytestmark = pytest.mark.engine

EXAMPLE = Path(layerwise.__file__).parent / "examples" / "flask-demo"

OPTIMIZED = """\
FROM python:3.10-slim
WORKDIR /app
# Install dependencies early for caching
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
# Copy only the rest of the app after dependencies are installed
COPY . .
CMD ["python", "app.py"]
"""

BUILDERS = ["buildkit", "legacy"]


def _context(tmp_path: Path, dockerfile: str | None = None) -> Path:
    ctx = tmp_path / "flask-demo"
    shutil.copytree(EXAMPLE, ctx)
    if dockerfile is not None:
        (ctx / "Dockerfile").write_text(dockerfile)
    return ctx


def _edit_app(ctx: Path, new: str) -> None:
    app = ctx / "app.py"
    text = app.read_text()
    assert "Hello, Docker!" in text
    app.write_text(text.replace("Hello, Docker!", new))


def _build(engine, ctx, builder, tag):
    r = engine.build(ctx, builder=builder, tag=tag)
    assert r.ok, f"{r.summary()}\n--- log ---\n{r.log}"
    assert r.format == builder, r.log
    return r


def _serve(engine, tag, port):
    """Run the image's app on ``port`` (host network) and return its answer."""
    code = f"import app; app.app.run(host='127.0.0.1', port={port})"
    with engine.run(tag, ["python", "-c", code]) as c:
        return engine.wait_http(f"http://127.0.0.1:{port}/", timeout=60, container=c)


@pytest.mark.parametrize("builder", BUILDERS)
def test_article_original_dockerfile_reruns_pip(engine, builder, tmp_path, image_tag, free_port):
    ctx = _context(tmp_path)
    tag = image_tag(f"lw-article-{builder}")

    first = _build(engine, ctx, builder, tag)
    pip1 = first.step("RUN pip install")
    assert pip1.ran, first.summary()
    assert "flask" in "\n".join(pip1.output).lower() or builder == "legacy", first.log

    _edit_app(ctx, "Hello, World!")
    second = _build(engine, ctx, builder, tag)
    assert second.step("WORKDIR /app").cached, second.summary()
    assert second.step("ADD . /app").ran, second.summary()
    assert second.step("RUN pip install").ran, second.summary()  # the article's problem
    assert _serve(engine, tag, free_port) == "Hello, World!"


@pytest.mark.parametrize("builder", BUILDERS)
def test_article_optimized_dockerfile_keeps_pip_cached(engine, builder, tmp_path, image_tag, free_port):
    ctx = _context(tmp_path, OPTIMIZED)
    tag = image_tag(f"lw-optimized-{builder}")

    first = _build(engine, ctx, builder, tag)
    assert first.step("COPY . .").ran, first.summary()
    assert _serve(engine, tag, free_port) == "Hello, Docker!"

    _edit_app(ctx, "Hello, World!")
    second = _build(engine, ctx, builder, tag)
    assert second.step("WORKDIR /app").cached, second.summary()
    assert second.step("COPY requirements.txt").cached, second.summary()
    assert second.step("RUN pip install").cached, second.summary()  # the article's fix
    assert second.step("COPY . .").ran, second.summary()
    assert second.image_id and second.image_id != first.image_id
    assert _serve(engine, tag, free_port) == "Hello, World!"


@pytest.mark.parametrize("builder", BUILDERS)
def test_proxy_build_args_stay_out_of_cache_key(engine, builder, tmp_path, image_tag):
    """What the harness relies on when it passes proxy settings as build args.

    Both builders ignore a proxy arg's *value* and undeclared build args. The
    legacy builder (26.1) still keys on whether a proxy arg is *present*:
    dropping it rebuilds RUN once; BuildKit stays CACHED.
    """
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM busybox:latest\nRUN echo {tmp_path.name} > /nonce\n")
    tag = image_tag("lw-proxy")

    def build(**args):
        r = engine.build(ctx, builder=builder, tag=tag, build_args=args, proxy_from_env=False)
        assert r.ok, r.log
        return r.step("RUN echo")

    assert build(HTTP_PROXY="http://127.0.0.1:1").ran
    assert build(HTTP_PROXY="http://127.0.0.1:2").cached
    assert build(HTTP_PROXY="http://127.0.0.1:3", OTHER="1").cached
    no_proxy = build()
    assert no_proxy.cached if builder == "buildkit" else no_proxy.ran
    assert build(OTHER="2").cached


# ---------------------------------------------------------------- harness checks


def test_modern_dockerfile_features(engine, tmp_path, image_tag):
    """The default engine runs BuildKit >= 0.10 (heredocs, COPY --link)."""
    if engine.flavor != "modern":
        pytest.skip(f"engine flavor {engine.flavor}: BuildKit v0.8 has no heredocs or --link")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "a.txt").write_text("a\n")
    (ctx / "Dockerfile").write_text(
        "FROM busybox:latest\n"
        "COPY --link a.txt /a.txt\n"
        "RUN <<EOF\n"
        "cat /a.txt > /b.txt\n"
        "echo heredoc >> /b.txt\n"
        "EOF\n"
    )
    tag = image_tag("lw-modern")
    r = engine.build(ctx, builder="buildkit", tag=tag)
    assert r.ok, r.log
    assert [s.keyword for s in r.steps] == ["FROM", "COPY", "RUN"]
    out = engine.run(tag, ["cat", "/b.txt"], detach=False, network=None)
    assert out.returncode == 0 and out.stdout == "a\nheredoc\n", out


@pytest.mark.parametrize("builder", BUILDERS)
def test_failed_build_reports_the_step(engine, builder, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox:latest\nRUN echo ok\nRUN exit 7\nRUN echo never\n")
    r = engine.build(ctx, builder=builder)
    assert not r.ok and r.returncode != 0
    assert r.steps[-1].instruction == "RUN exit 7" and r.steps[-1].status == "error", r.summary()
    assert "7" in (r.error or ""), r.error


def test_prune_build_cache_gives_a_cold_buildkit_build(engine, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM busybox:latest\nRUN echo {tmp_path.name}\n")
    assert engine.build(ctx).step("RUN").ran
    assert engine.build(ctx).step("RUN").cached
    engine.prune_build_cache()
    assert engine.build(ctx).step("RUN").ran
