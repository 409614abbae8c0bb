"""Benchmark of ``layerwise server``: time from a ``didChange`` to the diagnostics.

A real LSP client (pygls's LanguageClient) starts ``layerwise server`` over stdio, opens the
article's Dockerfile in a project, waits until the opening's work is done (both diagnostics
phases and the code lenses), then N times sends a ``didChange`` (the article's text with a new
comment line, so every text differs) and measures, on the client's clock:

* first: until the first ``publishDiagnostics`` of the Dockerfile after the change (the check
  of the unsaved text alone, no build context: the issue's target is under 100 ms);
* full: until the second one (the check with the build context, computed in the background).

The server waits ``DEBOUNCE`` after the last change before checking (keystrokes in a burst are
checked once); that wait is part of the measured time and is printed beside it.

Projects: the article's (the bundled flask-demo in a temporary git repository) and a generated
100,000-file context (bench/context_bench.generate, cached under --dir).

Usage:  python bench/server_bench.py [--runs N] [--dir DIR] [--size-mb MB] [--only article|100k]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_MS = 100.0
ARTICLE = (Path(__file__).resolve().parents[1] / "src/layerwise/examples/flask-demo/Dockerfile").read_text()


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Client:
    def __init__(self) -> None:
        self.client = LanguageClient("layerwise-bench", "1")
        self.events: list[tuple[float, str, int]] = []  # (time, uri, number of diagnostics)
        self.changed = asyncio.Event()
        self.lens_refreshes = 0

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.events.append((time.perf_counter(), params.uri, len(params.diagnostics)))
            self.changed.set()

        @self.client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def on_refresh(params) -> None:
            self.lens_refreshes += 1
            self.changed.set()

    async def start(self, root: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "layerwise", "server")
        uri = root.as_uri()
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
                code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True))),
            root_uri=uri, workspace_folders=[types.WorkspaceFolder(uri=uri, name="bench")]))  # fmt: skip
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    async def until(self, predicate, timeout: float) -> None:
        async def loop() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout)

    def publishes(self, uri: str, since: float) -> list[float]:
        return [t for t, u, _ in self.events if u == uri and t >= since]


async def measure(root: Path, runs: int, timeout: float) -> tuple[list[float], list[float], float]:
    """(first-phase times, full times, seconds the opening took) in seconds."""
    c = Client()
    await c.start(root)
    uri = (root / "Dockerfile").as_uri()
    try:
        t0 = time.perf_counter()
        c.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="dockerfile", version=1, text=ARTICLE)))  # fmt: skip
        await c.until(lambda: len(c.publishes(uri, t0)) >= 2 and c.lens_refreshes >= 1, timeout)
        opened = time.perf_counter() - t0
        await asyncio.sleep(0.5)
        first: list[float] = []
        full: list[float] = []
        for i in range(runs):
            text = ARTICLE + f"# edit {i}\n"
            start = time.perf_counter()
            c.client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))  # fmt: skip
            await c.until(lambda start=start: len(c.publishes(uri, start)) >= 2, timeout)
            got = c.publishes(uri, start)
            first.append(got[0] - start)
            full.append(got[1] - start)
            await asyncio.sleep(0.2)
        return first, full, opened
    finally:
        await c.stop()


def article_project(base: Path) -> Path:
    proj = base / "flask-demo"
    shutil.copytree(Path(__file__).resolve().parents[1] / "src/layerwise/examples/flask-demo", proj)
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "flask-demo"]):
        subprocess.run(["git", "-C", str(proj), *cmd], check=True, env=env)
    return proj


def row(label: str, first: list[float], full: list[float], opened: float) -> str:
    f = statistics.median(first) * 1000
    g = statistics.median(full) * 1000
    return (f"| {label} | {len(first)} | {f:.0f} ms ({min(first) * 1000:.0f}–{max(first) * 1000:.0f}) | "
            f"{f / TARGET_MS:.2f} | {g:.0f} ms ({min(full) * 1000:.0f}–{max(full) * 1000:.0f}) | {opened:.1f} s |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from layerwise.server.app import DEBOUNCE

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "layerwise-bench")
    ap.add_argument("--size-mb", type=int, default=200, help="size of the 100,000-file tree (default 200 MB)")
    ap.add_argument("--only", choices=("article", "100k"))
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "article"):
            proj = article_project(Path(tmp))
            _log("article's project ...")
            rows.append(row("article's project (flask-demo, 3 files)", *asyncio.run(measure(proj, args.runs, args.timeout))))
        if args.only in (None, "100k"):
            import context_bench

            tree = args.dir / f"tree-100000-{args.size_mb}"
            _log(f"100,000-file tree at {tree} (generated once) ...")
            context_bench.generate(tree, 100_000, args.size_mb)
            rows.append(row(f"generated context, 100,000 files, {args.size_mb} MB",
                            *asyncio.run(measure(tree, args.runs, args.timeout))))  # fmt: skip
    print(f"didChange → publishDiagnostics, medians (min–max) over the runs; server debounce {DEBOUNCE * 1000:.0f} ms "
          f"included; target {TARGET_MS:.0f} ms for the first phase; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    print("| project | runs | first: Dockerfile alone | ratio to 100 ms | full: with the build context | open (both phases + lenses) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
