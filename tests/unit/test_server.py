"""``layerwise server`` driven by a real LSP client over stdio (pygls's LanguageClient): the
article's Dockerfile gets LW101, its quick fix removes it, a file edited on disk switches the
install's code lens to "rebuilds", text that does not parse gets a located diagnostic and the
server keeps answering."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

pytestmark = pytest.mark.slow

ARTICLE = "FROM python:3.10-slim\nWORKDIR /app\nADD . /app\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "Dockerfile").write_text(ARTICLE)
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / ".dockerignore").write_text("**/.git\n**/__pycache__\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    return tmp_path


class Session:
    """A client connected to a `layerwise server` child, with what the server published."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.client = LanguageClient("layerwise-test", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.changed = asyncio.Event()
        self.refreshed = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = params.diagnostics
            self.changed.set()

        @self.client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def on_refresh(params) -> None:
            self.refreshed.set()

        self.log: list[str] = []

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(params) -> None:
            self.log.append(params.message)

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "layerwise", "server")
        uri = self.root.as_uri()
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
                code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True))),
            root_uri=uri, workspace_folders=[types.WorkspaceFolder(uri=uri, name="p")]))  # fmt: skip
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    async def wait_for(self, uri: str, predicate, timeout: float = 60) -> list[types.Diagnostic]:
        async def loop():
            while True:
                got = self.diagnostics.get(uri)
                if got is not None and predicate(got):
                    return got
                self.changed.clear()
                await self.changed.wait()

        try:
            return await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            raise AssertionError(f"no such diagnostics in {timeout} s: {self.diagnostics.get(uri)}; log: {self.log}") from None

    def open(self, path: Path, text: str) -> str:
        uri = path.as_uri()
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="dockerfile", version=1, text=text)))  # fmt: skip
        return uri

    def change(self, uri: str, version: int, text: str) -> None:
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))  # fmt: skip

    async def lenses(self, uri: str, predicate, timeout: float = 60) -> list[types.CodeLens]:
        async def loop():
            while True:
                got = await self.client.text_document_code_lens_async(
                    types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
                if got and predicate(got):
                    return got
                await asyncio.sleep(0.2)

        try:
            return await asyncio.wait_for(loop(), timeout)
        except TimeoutError:
            last = await self.client.text_document_code_lens_async(
                types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
            raise AssertionError(f"no such lenses in {timeout} s: {[(x.range.start.line, x.command.title) for x in last]}; "
                                 f"log: {self.log}") from None


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def off(p: types.Position) -> int:
        return starts[min(p.line, len(lines))] + p.character

    for e in sorted(edits, key=lambda e: off(e.range.start), reverse=True):
        text = text[: off(e.range.start)] + e.new_text + text[off(e.range.end) :]
    return text


def codes(diags) -> set[str]:
    return {d.code for d in diags}


def test_diagnostics_quick_fix_and_lens(project):
    async def scenario():
        s = Session(project)
        await s.start()
        try:
            uri = s.open(project / "Dockerfile", ARTICLE)
            diags = await s.wait_for(uri, lambda d: "LW101" in codes(d))
            lw101 = next(d for d in diags if d.code == "LW101")
            assert lw101.range.start.line == 2 and lw101.source == "layerwise"
            assert lw101.code_description.href.endswith("LW101.md")
            # the quick fix is `layerwise fix`'s edit for that finding
            actions = await s.client.text_document_code_action_async(types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), range=lw101.range,
                context=types.CodeActionContext(diagnostics=[lw101])))  # fmt: skip
            fix = next(a for a in actions if a.title.startswith("LW101:") and "ignore" not in a.title)
            assert fix.is_preferred and fix.kind == types.CodeActionKind.QuickFix
            (doc_edit,) = [c for c in fix.edit.document_changes if c.text_document.uri == uri]
            fixed = apply(ARTICLE, doc_edit.edits)
            assert fixed.index("COPY requirements.txt") < fixed.index("RUN pip install") < fixed.index("ADD . /app")
            assert any(a.title.startswith("LW101: ignore") for a in actions)
            assert any(a.kind == "source.fixAll.layerwise" for a in actions)
            s.change(uri, 2, fixed)
            await s.wait_for(uri, lambda d: "LW101" not in codes(d))
            # the lens: the tree equals HEAD, so the install comes from the cache...
            s.change(uri, 3, ARTICLE)  # back to the committed text (lenses are about the files on disk)
            lenses = await s.lenses(uri, lambda ls: any(lens.range.start.line == 3 for lens in ls))
            install = next(lens for lens in lenses if lens.range.start.line == 3)
            assert install.command.title == "cached"
            # ...and after app.py changes on disk, it rebuilds with its parent
            (project / "app.py").write_text("print('changed')\n")
            s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
                types.FileEvent(uri=(project / "app.py").as_uri(), type=types.FileChangeType.Changed)]))  # fmt: skip
            lenses = await s.lenses(uri, lambda ls: any(lens.range.start.line == 3 and lens.command.title != "cached"
                                                        for lens in ls))  # fmt: skip
            titles = {lens.range.start.line: lens.command.title for lens in lenses}
            assert titles[3] == "rebuilds: parent step rebuilt"
            assert titles[2].startswith("rebuilds: app.py")
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=2)))
            assert "rebuilds" in hover.contents.value and "RUN" in hover.contents.value
        finally:
            await s.stop()

    asyncio.run(scenario())


def test_text_that_does_not_parse_gets_a_located_diagnostic_and_the_server_lives_on(project):
    async def scenario():
        s = Session(project)
        await s.start()
        try:
            uri = s.open(project / "Dockerfile", ARTICLE)
            await s.wait_for(uri, lambda d: "LW101" in codes(d))
            s.change(uri, 2, "FROM python:3.12\nRUN --mount=type=nonsense echo hi\n")
            diags = await s.wait_for(uri, lambda d: len(d) == 1 and d[0].code is None)
            assert diags[0].range.start.line == 1 and diags[0].severity == types.DiagnosticSeverity.Error
            s.change(uri, 3, ARTICLE)
            await s.wait_for(uri, lambda d: "LW101" in codes(d))
        finally:
            await s.stop()

    asyncio.run(scenario())


def test_lenses_are_hidden_while_unsaved_edits_move_the_lines_and_come_back_on_save(project):
    """explain predicts the Dockerfile on disk: with unsaved edits its lines are not the
    editor's (Neovim showed `cached` on a comment), so no lens until the text is saved."""

    async def scenario():
        s = Session(project)
        await s.start()
        try:
            uri = s.open(project / "Dockerfile", ARTICLE)
            await s.lenses(uri, lambda ls: any(lens.range.start.line == 3 for lens in ls))
            edited = "# a comment above everything\n" + ARTICLE
            s.change(uri, 2, edited)
            params = types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
            assert not await s.client.text_document_code_lens_async(params)
            hover = await s.client.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=4, character=2)))
            assert "RUN" in hover.contents.value and "Next build" not in hover.contents.value
            (project / "Dockerfile").write_text(edited)
            s.client.text_document_did_save(types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))  # fmt: skip
            lenses = await s.lenses(uri, lambda ls: any(lens.range.start.line == 4 for lens in ls))
            titles = {lens.range.start.line: lens.command.title for lens in lenses}
            assert 0 not in titles and 1 in titles  # the lines of the saved text: the comment has none
            assert titles[4].startswith("rebuilds")  # RUN pip install: the Dockerfile changed since HEAD
        finally:
            await s.stop()

    asyncio.run(scenario())
