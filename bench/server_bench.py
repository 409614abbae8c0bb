"""Benchmark of ``layerwise server``: time from a ``didChange`` to the diagnostics and lenses.

A real LSP client (pygls's LanguageClient) starts ``layerwise server`` over stdio, opens the
article's Dockerfile in a project, waits until the opening's work is done (both diagnostics
phases and the code lenses), then N times sends a ``didChange`` (the article's text with a new
comment line, so every text differs) and measures, on the client's clock:

* first: until the first ``publishDiagnostics`` of the Dockerfile after the change (the check
  of the unsaved text alone, no build context: the issue's target is under 100 ms);
* full: until the second one (the check with the build context, in the background);
* lens: until the server asks the client to refresh the code lenses (the prediction of the
  new text, in the background).

Two clients: one that lets the server register file watchers (the kept context walk is
trusted until a watched file changes) and one that cannot watch files (the kept walk is
checked with lstat before each use).

Reference, measured in the same run: the same server with ``LAYERWISE_SERVER_KEEP_WALKS=0``
(the context walked again at each use, as before the walks were kept: the context phase and
the prediction each walk). The ratio columns are kept / reference.

The server waits ``DEBOUNCE`` after the last change before checking (keystrokes in a burst are
checked once) and ``CONTEXT_DEBOUNCE`` before the context phase; both waits are part of the
measured times.

Projects: the article's (the bundled flask-demo in a temporary git repository) and a generated
100,000-file context (bench/context_bench.generate, cached under --dir; a git repository).

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
from dataclasses import dataclass, field
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
        self.lens_refreshes: list[float] = []
        self.walks: list[str] = []

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(params) -> None:
            if params.message.startswith("layerwise: walked"):
                self.walks.append(params.message)

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def on_register(params) -> None:
            return None

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.events.append((time.perf_counter(), params.uri, len(params.diagnostics)))
            self.changed.set()

        @self.client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def on_refresh(params) -> None:
            self.lens_refreshes.append(time.perf_counter())
            self.changed.set()

    async def start(self, root: Path, watch: bool, keep: bool) -> None:
        env = dict(os.environ, LAYERWISE_SERVER_KEEP_WALKS="1" if keep else "0")
        await self.client.start_io(sys.executable, "-m", "layerwise", "server", env=env)
        uri = root.as_uri()
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
                code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True),
                did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=watch))),
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


@dataclass
class Times:
    first: list[float] = field(default_factory=list)
    full: list[float] = field(default_factory=list)
    lens: list[float] = field(default_factory=list)
    opened: float = 0.0
    walks: int = 0


async def measure(root: Path, runs: int, timeout: float, watch: bool, keep: bool = True) -> Times:
    """Times in seconds, and the number of context walks the server made."""
    c = Client()
    await c.start(root, watch, keep)
    uri = (root / "Dockerfile").as_uri()
    out = Times()
    try:
        t0 = time.perf_counter()
        c.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="dockerfile", version=1, text=ARTICLE)))  # fmt: skip
        await c.until(lambda: len(c.publishes(uri, t0)) >= 2 and c.lens_refreshes, timeout)
        out.opened = time.perf_counter() - t0
        await asyncio.sleep(0.5)
        for i in range(runs):
            text = ARTICLE + f"# edit {i}\n"
            start = time.perf_counter()
            c.client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))  # fmt: skip
            await c.until(lambda start=start: len(c.publishes(uri, start)) >= 2
                          and any(t >= start for t in c.lens_refreshes), timeout)  # fmt: skip
            got = c.publishes(uri, start)
            out.first.append(got[0] - start)
            out.full.append(got[1] - start)
            out.lens.append(min(t for t in c.lens_refreshes if t >= start) - start)
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.2)
        out.walks = len(c.walks)
        return out
    finally:
        await c.stop()


def article_project(base: Path) -> Path:
    proj = base / "flask-demo"
    shutil.copytree(Path(__file__).resolve().parents[1] / "src/layerwise/examples/flask-demo", proj)
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "flask-demo"]):
        subprocess.run(["git", "-C", str(proj), *cmd], check=True, env=env)
    return proj


def _ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:,.0f} ms ({min(xs) * 1000:,.0f}–{max(xs) * 1000:,.0f})"


def row(label: str, t: Times, ref: Times | None) -> str:
    med = statistics.median
    f = med(t.first) * 1000
    ratios = f"{med(t.full) / med(ref.full):.2f} | {med(t.lens) / med(ref.lens):.2f}" if ref else "1 | 1"
    return (f"| {label} | {len(t.first)} | {_ms(t.first)} | {f / TARGET_MS:.2f} | {_ms(t.full)} | {_ms(t.lens)} | "
            f"{ratios} | {t.walks} | {t.opened:.1f} s |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from layerwise.server.app import CONTEXT_DEBOUNCE, DEBOUNCE

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "layerwise-bench")
    ap.add_argument("--size-mb", type=int, default=200, help="size of the 100,000-file tree (default 200 MB)")
    ap.add_argument("--only", choices=("article", "100k"))
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args(argv)
    rows = []

    def both(label: str, root: Path) -> None:
        _log("  reference: the server walking the context at each use ...")
        ref = asyncio.run(measure(root, args.runs, args.timeout, watch=True, keep=False))
        rows.append(row(f"{label}, reference (walks not kept)", ref, None))
        for watch in (True, False):
            _log(f"  client {'with' if watch else 'without'} file watching ...")
            t = asyncio.run(measure(root, args.runs, args.timeout, watch))
            rows.append(row(f"{label}, walk kept, {'watched' if watch else 'stat-checked'}", t, ref))

    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "article"):
            proj = article_project(Path(tmp))
            _log("article's project ...")
            both("article's project (flask-demo)", proj)
        if args.only in (None, "100k"):
            import context_bench

            tree = args.dir / f"tree-100000-{args.size_mb}"
            _log(f"100,000-file tree at {tree} (generated once) ...")
            context_bench.generate(tree, 100_000, args.size_mb)
            both(f"100,000 files, {args.size_mb} MB", tree)
    print(f"didChange → publishDiagnostics / codeLens refresh, medians (min–max) over the runs; server debounces "
          f"{DEBOUNCE * 1000:.0f} ms (first) and {CONTEXT_DEBOUNCE * 1000:.0f} ms (full) included; target "
          f"{TARGET_MS:.0f} ms for the first phase; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    print("| project, server | runs | first: Dockerfile alone | first / 100 ms | full: with the build context "
          "| lens: prediction | full / reference | lens / reference | walks | open |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
