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

    def __init__(self, root: Path, watch: bool = False) -> None:
        self.root = root
        self.watch = watch  # the client can register file watchers
        self.registrations: list[types.Registration] = []
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

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def on_register(params: types.RegistrationParams) -> None:
            self.registrations += params.registrations

        @self.client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(params) -> None:
            self.log.append(params.message)

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "layerwise", "server")
        uri = self.root.as_uri()
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
                code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True),
                did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                    dynamic_registration=self.watch))),
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

    def walks(self) -> list[str]:
        return [m for m in self.log if m.startswith("layerwise: walked the build context")]

    async def hover(self, uri: str, line: int) -> str:
        got = await self.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=1)))
        return got.contents.value if got is not None else ""

    async def titles(self, uri: str, predicate, timeout: float = 60) -> dict[int, str]:
        """The lenses (line -> title) once ``predicate(titles)`` holds."""
        got = await self.lenses(uri, lambda ls: predicate({x.range.start.line: x.command.title for x in ls}), timeout)
        return {x.range.start.line: x.command.title for x in got}

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


MOVED = ("FROM python:3.10-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
         "ADD . /app\nCMD [\"python\", \"app.py\"]\n")


def test_lenses_follow_the_unsaved_text(project):
    """The prediction is of the text in the editor, saved or not: its lines are the lenses'."""

    async def scenario():
        s = Session(project)
        await s.start()
        try:
            uri = s.open(project / "Dockerfile", ARTICLE)
            titles = await s.titles(uri, lambda t: t.get(3) == "cached")
            assert titles[2] == "cached"  # ADD . /app: the tree is HEAD's
            s.change(uri, 2, MOVED)  # unsaved: the install moves above the ADD
            titles = await s.titles(uri, lambda t: t.get(2, "").startswith("rebuilds"))
            assert titles[1] == "cached"  # WORKDIR: unchanged
            assert titles[2] == "rebuilds: a new instruction (not in the previous build)"
            assert titles[3] == "rebuilds: parent step rebuilt"
            assert titles[4] == "rebuilds: parent step rebuilt"  # ADD . /app, now after the install
            assert "Next build (against HEAD): **rebuilds**" in await s.hover(uri, 4)
            assert (project / "Dockerfile").read_text() == ARTICLE
            s.change(uri, 3, ARTICLE)  # back to the saved text
            await s.titles(uri, lambda t: t.get(2) == "cached" and t.get(3) == "cached")
        finally:
            await s.stop()

    asyncio.run(scenario())


def test_the_context_is_walked_once_while_typing_and_again_when_a_watched_file_changes(project):
    async def scenario():
        s = Session(project, watch=True)
        await s.start()
        try:
            uri = s.open(project / "Dockerfile", ARTICLE)
            await s.titles(uri, lambda t: t.get(3) == "cached")
            assert [r.method for r in s.registrations] == ["workspace/didChangeWatchedFiles"]
            assert [w["globPattern"] for w in s.registrations[0].register_options["watchers"]] == ["**/*"]
            for version in range(2, 7):  # a pause after each keystroke: checks and a prediction each
                s.change(uri, version, ARTICLE + "#" * version + "\n")
                await s.titles(uri, lambda t, v=version: t.get(2, "").startswith("rebuilds: Dockerfile"))
                await asyncio.sleep(0.3)
            s.change(uri, 7, ARTICLE)
            await s.titles(uri, lambda t: t.get(2) == "cached")
            assert len(s.walks()) == 1, s.walks()
            # a change the ignore file leaves out (.git/, __pycache__) keeps the walk
            (project / "__pycache__").mkdir()
            (project / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"x")
            s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
                uri=(project / "__pycache__" / "app.cpython-312.pyc").as_uri(), type=types.FileChangeType.Created)]))
            await asyncio.sleep(1.0)
            assert len(s.walks()) == 1
            # a file the build sends: walked again, the lens of the install switches to rebuild
            (project / "app.py").write_text("print('changed')\n")
            s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
                types.FileEvent(uri=(project / "app.py").as_uri(), type=types.FileChangeType.Changed)]))  # fmt: skip
            titles = await s.titles(uri, lambda t: t.get(3) == "rebuilds: parent step rebuilt")
            assert titles[2].startswith("rebuilds: app.py")
            assert len(s.walks()) == 2
        finally:
            await s.stop()

    asyncio.run(scenario())


def test_without_file_watching_a_kept_walk_is_checked_before_use(project):
    """A client that cannot watch files: app.py edited on disk with no event is seen at the
    next pause in typing (the kept walk's stat check), not only after a save."""

    async def scenario():
        s = Session(project, watch=False)
        await s.start()
        try:
            uri = s.open(project / "Dockerfile", ARTICLE)
            await s.titles(uri, lambda t: t.get(3) == "cached")
            assert not s.registrations
            s.change(uri, 2, ARTICLE + "# typing\n")
            await s.titles(uri, lambda t: t.get(2, "").startswith("rebuilds: Dockerfile"))
            assert len(s.walks()) == 1  # nothing changed on disk: the kept walk served
            (project / "app.py").write_text("print('changed')\n")
            s.change(uri, 3, ARTICLE)
            # (until the prediction of this text comes, the lenses of the last one are served)
            titles = await s.titles(uri, lambda t: t.get(2, "").startswith("rebuilds: app.py"))
            assert titles[3] == "rebuilds: parent step rebuilt"
            assert len(s.walks()) == 2
        finally:
            await s.stop()

    asyncio.run(scenario())


HOVER_DOCKERFILE = """FROM python:3.12-slim AS build
WORKDIR /app
COPY requirements.txt .
COPY . .
COPY src/*.py missing.txt lib/
ADD https://example.com/x.tar.gz /tmp/
FROM python:3.12-slim
COPY --from=build /app /app
COPY --from=busybox:1.36 /bin/true /bin/true
"""


def test_hover_says_how_many_files_a_copy_copies_and_their_size(tmp_path):
    files = {
        "Dockerfile": HOVER_DOCKERFILE,
        ".dockerignore": "**/.git\n*.log\nsrc/skip.py\n",
        "requirements.txt": "flask==3.0.3\n",
        "app.py": "print('hi')\n" * 3,
        "src/a.py": "a = 1\n",
        "src/b.py": "b = 22\n",
        "src/skip.py": "skipped\n",
        "src/data.json": "{}\n",
        "debug.log": "x" * 500,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    sent = {n: len(t) for n, t in files.items() if n not in ("debug.log", "src/skip.py")}

    async def scenario():
        s = Session(tmp_path)
        await s.start()
        try:
            uri = s.open(tmp_path / "Dockerfile", HOVER_DOCKERFILE)
            req = await s.hover(uri, 2)
            assert "Copies **1 file, 13 B** from the build context (after .dockerignore)" in req
            everything = await s.hover(uri, 3)
            assert f"Copies **{len(sent)} files, {sum(sent.values())} B**" in everything
            some = await s.hover(uri, 4)
            py = len(files["src/a.py"]) + len(files["src/b.py"])
            assert f"Copies **2 files, {py} B**" in some
            assert f"- `src/*.py`: 2 files, {py} B" in some and "- `missing.txt`: selects nothing that is sent" in some
            assert "1 download (not from the build context)" in await s.hover(uri, 5)
            stage = await s.hover(uri, 7)
            assert "Copies from the stage `build`" in stage and "files" not in stage.split("Copies")[1].split("(")[0]
            assert "Copies from the image `busybox:1.36`" in await s.hover(uri, 8)
            # the unsaved text: the hover reads the editor's text, the counts the files sent
            s.change(uri, 2, HOVER_DOCKERFILE.replace("COPY requirements.txt .", "COPY app.py requirements.txt ./"))
            both = await s.hover(uri, 2)
            assert f"Copies **2 files, {13 + len(files['app.py'])} B**" in both
        finally:
            await s.stop()

    asyncio.run(scenario())


def test_lenses_stay_while_the_prediction_of_a_new_text_is_computed(project):
    """Typing does not blink the lenses away: until the prediction of the new text arrives,
    the lenses of the instructions still written the same are served on their new lines (an
    edited instruction loses its own); then the server asks for them again
    (workspace/codeLens/refresh) and the new prediction is served."""

    async def scenario():
        s = Session(project)
        await s.start()
        try:
            uri = s.open(project / "Dockerfile", ARTICLE)
            before = await s.titles(uri, lambda t: t.get(3) == "cached")
            assert before == {0: "cached", 1: "cached", 2: "cached", 3: "cached"}
            await asyncio.sleep(0.5)  # any refresh of the first prediction has come
            s.refreshed.clear()
            edited = "# a note\n" + ARTICLE.replace("requirements.txt\n", "requirements.txt --no-compile\n")
            s.change(uri, 2, edited)
            # asked at once (the checks wait 30 ms, the prediction 150 ms more): the lenses of
            # the unchanged instructions, one line down; none on the edited RUN
            got = await s.client.text_document_code_lens_async(
                types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
            assert {x.range.start.line: x.command.title for x in got} == {1: "cached", 2: "cached", 3: "cached"}
            assert not s.refreshed.is_set()
            await asyncio.wait_for(s.refreshed.wait(), 60)
            got = await s.client.text_document_code_lens_async(
                types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
            titles = {x.range.start.line: x.command.title for x in got}
            assert titles[3].startswith("rebuilds: Dockerfile")  # ADD . /app copies the edited Dockerfile
            assert titles[4] == "rebuilds: parent step rebuilt"
        finally:
            await s.stop()

    asyncio.run(scenario())
