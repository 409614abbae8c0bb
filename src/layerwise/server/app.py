"""The server: document events → checks and predictions, requests → answers from the latest
results. See :mod:`layerwise.server` for what it offers."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from layerwise.server.contexts import Contexts
from layerwise.server.convert import Lines, diagnostic, path_to_uri, uri_to_path, workspace_edit

log = logging.getLogger("layerwise.server")

DOCKERFILE = re.compile(r"^(?:(?:Docker|Container)file(?:\.[^/]*)?|dockerfile|[^/]*\.(?:docker|container)file)$", re.I)
#: files whose findings come from checking the project's Dockerfile (published when saved)
PROJECT_FILE = re.compile(
    r"(^\.dockerignore$|\.dockerignore$|^requirements[^/]*\.(?:txt|in)$|^pyproject\.toml$|\.lock$|^Pipfile"
    r"|^\.gitlab-ci\.ya?ml$|\.github/workflows/[^/]+\.ya?ml$)"
)
#: seconds between the last keystroke and the check of the unsaved text alone (about 1 ms of
#: work: the wait only merges the keystrokes of a burst; bench/server_bench.py measures it)
DEBOUNCE = 0.03
#: seconds between the last keystroke and the check with the build context (a walk of it)
CONTEXT_DEBOUNCE = 0.15


def is_dockerfile(path: str) -> bool:
    return bool(DOCKERFILE.match(os.path.basename(path)))


@dataclass
class DocState:
    """What the server knows of one open Dockerfile."""

    generation: int = 0  # bumped by every change: older results are dropped
    findings: list = field(default_factory=list)  # of the latest check (the unsaved text)
    text: str = ""  # the text those findings are about
    lenses: list[types.CodeLens] = field(default_factory=list)
    steps: dict[int, object] = field(default_factory=dict)  # line -> explain StepReport
    #: the Dockerfile text that ``lenses``/``steps`` predict (their lines are its lines)
    predicted_text: str | None = None
    timer: asyncio.TimerHandle | None = None
    predicting: bool = False  # a prediction runs (in the pool)
    #: the newest prediction asked for while one ran: (text, generation); older asks are dropped
    pending: tuple[str, int] | None = None
    last_error: str | None = None  # the last "no prediction" logged (not repeated per keystroke)


class LayerwiseServer(LanguageServer):
    def __init__(self) -> None:
        from layerwise import __version__

        super().__init__("layerwise", __version__)
        self.docs: dict[str, DocState] = {}
        self.published: dict[str, set[str]] = {}  # Dockerfile uri -> the uris it published to
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="layerwise")
        # the check of the unsaved text alone has a thread of its own: a keystroke never waits
        # behind a context walk or a prediction running in the pool
        self.fast = ThreadPoolExecutor(max_workers=1, thread_name_prefix="layerwise-text")
        self.tasks: set[asyncio.Future] = set()  # background predictions (kept referenced)
        self.contexts = Contexts()  # the context walks, kept until a file changes
        self.contexts.on_walk = self._log_from_thread
        self.event_loop: asyncio.AbstractEventLoop | None = None  # the server's, once initialized

    def _log_from_thread(self, message: str) -> None:
        """A log line for the client, from a worker thread (sent from the event loop)."""
        params = types.LogMessageParams(type=types.MessageType.Log, message=message)
        try:
            self.event_loop.call_soon_threadsafe(self.window_log_message, params)
        except Exception:  # noqa: BLE001 - no loop (not started, or closing): the line is lost
            log.info("%s", message)

    # -- the project around a document -------------------------------------------------------

    def context_of(self, path: str) -> str:
        """The build context: the workspace folder holding the Dockerfile (as ``docker build
        -f PATH .`` run at its root), else the repository around it, else its folder."""
        from layerwise import safefs

        path = os.path.abspath(path)
        folders = [uri_to_path(f.uri) for f in (self.workspace.folders or {}).values()]
        if self.workspace.root_path:
            folders.append(self.workspace.root_path)
        inside = [f for f in folders if path.startswith(os.path.abspath(f).rstrip(os.sep) + os.sep)]
        if inside:
            return max(inside, key=len)
        return safefs.project_root(os.path.dirname(path))

    def config_for(self, context: str):
        from layerwise.config import Config, load_config

        try:
            return load_config(context)
        except Exception as exc:  # noqa: BLE001 - a broken pyproject.toml must not stop diagnostics
            log.warning("layerwise: [tool.layerwise] not read: %s", exc)
            return Config()

    # -- checks -------------------------------------------------------------------------------

    def check(self, uri: str, text: str, with_context: bool, token: object = None):
        """``check``'s findings for the Dockerfile ``uri`` with the text ``text``."""
        from layerwise.api import check_text, rules_for

        path = uri_to_path(uri)
        context = self.context_of(path)
        cfg = self.config_for(context)
        rel = os.path.relpath(path, context)
        rules = rules_for(None, (), (), cfg)
        if with_context:
            from layerwise.errors import LayerwiseError

            try:
                files, ignore = self.contexts.files(context, path, token=token)
            except LayerwiseError:
                pass  # an unreadable ignore file, a context that is not a folder: check_text reports it
            else:
                from layerwise.analyses.check import check_parsed
                from layerwise.analyses.project import ProjectContext
                from layerwise.parse import parse

                df = parse(text, rel)
                project = ProjectContext(context, path)
                project.use_snapshot(files._snap, ignore)  # the kept walk: no walk per typing pause
                return check_parsed(df, rel, project, rules=rules, severities=cfg.severity), context
        result = check_text(text, context=context if with_context else None, path=rel, rules=rules,
                            severities=cfg.severity)  # fmt: skip
        return result, context

    def publish(self, uri: str, text: str, result, context: str) -> None:
        from layerwise.report.sarif import help_uri

        by_uri: dict[str, list[types.Diagnostic]] = {uri: []}
        lines_of: dict[str, Lines] = {}
        path = uri_to_path(uri)
        for i, f in enumerate(result.findings):
            fpath = f.path if os.path.isabs(f.path) else os.path.join(context, f.path)
            f_uri = uri if os.path.abspath(fpath) == os.path.abspath(path) else path_to_uri(fpath)
            if f_uri not in lines_of:
                doc_text = text if f_uri == uri else self._text_of(f_uri, fpath)
                lines_of[f_uri] = Lines(doc_text or "", self._codec(f_uri))
            by_uri.setdefault(f_uri, []).append(diagnostic(f, lines_of[f_uri], help_uri(f.code), i))
        for stale in self.published.get(uri, set()) - set(by_uri):
            by_uri[stale] = []
        self.published[uri] = {u for u, d in by_uri.items() if d}
        for u, diags in by_uri.items():
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=u, diagnostics=diags))

    def _codec(self, uri: str):
        try:
            return self.workspace.get_text_document(uri).position_codec
        except Exception:  # noqa: BLE001 - no workspace yet: Python characters
            return None

    def _text_of(self, uri: str, path: str) -> str | None:
        doc = self.workspace.text_documents.get(uri)
        if doc is not None:
            return doc.source
        from layerwise import safefs

        try:
            return safefs.read_text(path)
        except Exception:  # noqa: BLE001 - unreadable: no frame, the diagnostic still shows
            return None

    def schedule(self, uri: str, delay: float = DEBOUNCE) -> None:
        """Check the Dockerfile ``uri`` after ``delay`` (a later change restarts the wait)."""
        state = self.docs.setdefault(uri, DocState())
        state.generation += 1
        if state.timer is not None:
            state.timer.cancel()
        loop = asyncio.get_event_loop()
        state.timer = loop.call_later(delay, lambda: asyncio.ensure_future(self.run_checks(uri, state.generation)))

    async def run_checks(self, uri: str, generation: int) -> None:
        state = self.docs.get(uri)
        if state is None or state.generation != generation:
            return
        doc = self.workspace.get_text_document(uri)
        text = doc.source
        loop = asyncio.get_event_loop()
        for with_context in (False, True):
            if with_context:
                await asyncio.sleep(max(0.0, CONTEXT_DEBOUNCE - DEBOUNCE))
                if state.generation != generation:
                    return  # a newer change: its own checks follow
            try:
                executor = self.pool if with_context else self.fast
                result, context = await loop.run_in_executor(executor, self.check, uri, text, with_context,
                                                             (uri, generation))  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - a parse error is a diagnostic, anything else a log line
                if state.generation == generation:
                    self.publish_error(uri, text, exc)
                return
            if state.generation != generation:
                return  # superseded by a newer change
            state.findings, state.text = result.findings, text
            self.publish(uri, text, result, context)
        self.schedule_lenses(uri, text, generation)

    def publish_error(self, uri: str, text: str, exc: Exception) -> None:
        from layerwise.errors import LayerwiseError

        if not isinstance(exc, LayerwiseError):
            log.exception("layerwise: check failed")
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Error,
                                                           message=f"layerwise: check failed: {exc!r}"))  # fmt: skip
            return
        loc = exc.location
        line = (loc.line or 1) if loc else 1
        col = (loc.column or 1) if loc else 1
        lines = Lines(text, self._codec(uri))
        start = lines.position(line - 1, col - 1)
        end = lines.position(line - 1, lines.line_end(line - 1))
        diag = types.Diagnostic(range=types.Range(start=start, end=end), message=exc.message,
                                severity=types.DiagnosticSeverity.Error, source="layerwise")  # fmt: skip
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[diag]))

    # -- predictions (code lenses) ------------------------------------------------------------

    def predict(self, uri: str, text: str, token: object = None):
        """explain's prediction for the next build of the Dockerfile ``uri`` with the text
        ``text`` (unsaved edits included) and the files on disk, against the last commit."""
        from layerwise.api import explain_project

        path = uri_to_path(uri)
        context = self.context_of(path)
        self.contexts.files(context, path, token=token)  # the kept walk (checked when the client cannot watch)
        return explain_project(context, dockerfile=path, before="HEAD", timings=False, dockerfile_text=text,
                               walks=self.contexts.walks(context))  # fmt: skip

    def schedule_lenses(self, uri: str, text: str, generation: int) -> None:
        """Predict ``text`` in the background. One prediction runs per document: asked again
        meanwhile, only the newest ask is kept and runs next (the older ones are dropped
        unstarted); a result superseded by a change while it ran is dropped."""
        state = self.docs.get(uri)
        if state is None:
            return
        if state.predicting:
            state.pending = (text, generation)
            return
        state.predicting = True
        loop = asyncio.get_event_loop()

        async def run(text: str, generation: int) -> None:
            try:
                while True:
                    if state.generation == generation and self.docs.get(uri) is state:
                        await self._predict_once(loop, uri, state, text, generation)
                    if state.pending is None:
                        return
                    (text, generation), state.pending = state.pending, None
            finally:
                state.predicting = False

        task = asyncio.ensure_future(run(text, generation))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _predict_once(self, loop, uri: str, state: DocState, text: str, generation: int) -> None:
        try:
            got = await loop.run_in_executor(self.pool, self.predict, uri, text, (uri, generation))
        except Exception as exc:  # noqa: BLE001 - no git, no HEAD, a parse error: no lenses, a log line
            if state.generation == generation:
                had = bool(state.lenses)
                state.lenses, state.steps, state.predicted_text = [], {}, None
                if had:  # the lenses carried over from an older text go too
                    await self._refresh_lenses()
            if str(exc) != state.last_error:
                state.last_error = str(exc)
                self.window_log_message(types.LogMessageParams(type=types.MessageType.Info,
                                                               message=f"layerwise: no prediction: {exc}"))  # fmt: skip
            return
        if state.generation != generation:
            return  # the text changed meanwhile: the prediction of the new text follows
        state.last_error = None
        state.predicted_text = text
        state.steps = {s.line: s for s in got.explanation.steps}
        state.lenses = lenses_of(got.explanation)
        await self._refresh_lenses()

    async def _refresh_lenses(self) -> None:
        """Ask the client for the lenses again (``workspace/codeLens/refresh``)."""
        try:
            await self.workspace_code_lens_refresh_async(None)
        except Exception:  # noqa: BLE001 - a client without refresh asks again on its own
            pass


def short_cause(step) -> str:
    if step.status == "cached":
        return "cached"
    if step.status == "not-built":
        return "not built"
    if step.status != "rebuilt":
        return ""
    cause = step.cause
    if cause is None:
        return "rebuilds"
    if cause.type == "files":
        paths = cause.detail.get("paths") or []
        if paths:
            first = paths[0]
            more = f" (+{cause.detail.get('count', len(paths)) - 1} more)" if cause.detail.get("count", 1) > 1 else ""
            return f"rebuilds: {first.get('path')} {first.get('change', 'changed')}{more}"
    if cause.type == "parent":
        return "rebuilds: parent step rebuilt"
    return "rebuilds: " + cause.message.split(":")[0][:60]


def lenses_of(explanation) -> list[types.CodeLens]:
    out = []
    for s in explanation.steps:
        title = short_cause(s)
        if not title:
            continue
        line0 = max(s.line - 1, 0)
        rng = types.Range(start=types.Position(line=line0, character=0), end=types.Position(line=line0, character=0))
        out.append(types.CodeLens(range=rng, command=types.Command(title=title, command="")))
    return out


def carried_lenses(lenses: list[types.CodeLens], steps: dict, old_text: str, new_text: str) -> list[types.CodeLens]:
    """The lenses predicted for ``old_text`` that still apply, as far as the text shows, to
    ``new_text``: those whose instruction (all its lines) is unchanged, moved to where it
    sits now. A lens of an instruction that was edited, or whose lines were cut, is dropped."""
    from difflib import SequenceMatcher

    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    moved: dict[int, int] = {}  # 0-based line of old_text -> its line in new_text, unchanged
    for a, b, size in SequenceMatcher(None, old_lines, new_lines, autojunk=False).get_matching_blocks():
        for k in range(size):
            moved[a + k] = b + k
    out = []
    for lens in lenses:
        line0 = lens.range.start.line
        step = steps.get(line0 + 1)
        end0 = max(line0, (getattr(step, "end_line", 0) or 0) - 1)
        to = moved.get(line0)
        if to is None or any(moved.get(line0 + k) != to + k for k in range(end0 - line0 + 1)):
            continue
        pos = types.Position(line=to, character=lens.range.start.character)
        out.append(types.CodeLens(range=types.Range(start=pos, end=pos), command=lens.command, data=lens.data))
    return out


def build_server() -> LayerwiseServer:
    server = LayerwiseServer()

    def dockerfile_uri(uri: str) -> bool:
        return is_dockerfile(uri_to_path(uri))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LayerwiseServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        if dockerfile_uri(uri):
            ls.schedule(uri, delay=0)  # the checks, then the prediction

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LayerwiseServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if dockerfile_uri(uri):
            ls.schedule(uri)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: LayerwiseServer, params: types.InitializedParams) -> None:
        ls.event_loop = asyncio.get_running_loop()
        await ls.watch_files()

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LayerwiseServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.refresh_project([params.text_document.uri])

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LayerwiseServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        state = ls.docs.pop(uri, None)
        if state is not None:
            state.generation += 1  # a running check or prediction is dropped
            state.pending = None
            if state.timer is not None:
                state.timer.cancel()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: LayerwiseServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.refresh_project([c.uri for c in params.changes])

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: LayerwiseServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        uri = params.text_document.uri
        state = ls.docs.get(uri)
        if state is None or state.predicted_text is None:
            return []
        if ls.prediction_is_current(uri, state):
            return list(state.lenses)
        # the prediction is of an older text: until the one of this text arrives (with a
        # workspace/codeLens/refresh), the lenses of the instructions still written the same,
        # moved to their lines now; the others go (the editor would blink them away and back
        # at each keystroke otherwise)
        try:
            source = ls.workspace.get_text_document(uri).source
        except Exception:  # noqa: BLE001 - not open
            return []
        return carried_lenses(state.lenses, state.steps, state.predicted_text, source)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: LayerwiseServer, params: types.HoverParams) -> types.Hover | None:
        try:
            return await hover_at(ls, params.text_document.uri, params.position.line + 1)
        except Exception:
            log.exception("layerwise: hover failed")
            return None

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, SOURCE_FIX_ALL]),
    )
    def code_action(ls: LayerwiseServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        try:
            return code_actions(ls, params)
        except Exception:
            log.exception("layerwise: code actions failed")
            return []

    return server


SOURCE_FIX_ALL = "source.fixAll.layerwise"


def _prediction_is_current(self: LayerwiseServer, uri: str, state: DocState) -> bool:
    """The prediction is of the text the editor shows."""
    try:
        source = self.workspace.get_text_document(uri).source
    except Exception:  # noqa: BLE001 - not open: nothing shows it
        return False
    return state.predicted_text is not None and source == state.predicted_text


LayerwiseServer.prediction_is_current = _prediction_is_current  # type: ignore[attr-defined]


def _refresh_project(self: LayerwiseServer, changed_uris: list[str] | None) -> None:
    """Files were saved or changed on disk: forget the context walks they change (a change the
    ignore file leaves out, in ``.git/`` say, keeps them), then re-check every open Dockerfile
    (their findings in other files come from the files on disk) and predict again (the last
    commit may have moved)."""
    self.contexts.invalidate(None if changed_uris is None else [uri_to_path(u) for u in changed_uris])
    for uri in list(self.docs):
        self.schedule(uri, delay=0 if uri not in (changed_uris or ()) else DEBOUNCE)


LayerwiseServer.refresh_project = _refresh_project  # type: ignore[attr-defined]


async def _watch_files(self: LayerwiseServer) -> None:
    """Ask the client to report changed files (``workspace/didChangeWatchedFiles``) when it
    can register watchers dynamically; then the kept context walks are trusted until an event
    says otherwise. Without: each kept walk is checked with lstat before use."""
    caps = self.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps is not None else None
    if watched is None or not watched.dynamic_registration:
        return
    try:
        await self.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
            id="layerwise-watch", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                watchers=[types.FileSystemWatcher(glob_pattern="**/*")]))]))  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - refused: the lstat checks stay on
        log.warning("layerwise: no file watching: %s", exc)
        return
    self.contexts.watching = True


LayerwiseServer.watch_files = _watch_files  # type: ignore[attr-defined]


def _overlaps(f, line: int, end_line: int) -> bool:
    return f.line <= end_line + 1 and (f.end_line or f.line) >= line + 1


def code_actions(ls: LayerwiseServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    state = ls.docs.get(uri)
    if state is None:
        return []
    doc = ls.workspace.get_text_document(uri)
    if doc.source != state.text:
        return []  # the findings are of an older text: the next check brings fresh ones
    path = uri_to_path(uri)
    context = ls.context_of(path)
    want = params.context.only
    out: list[types.CodeAction] = []
    r = params.range
    versions = {uri: doc.version}
    if not want or any(k.startswith(types.CodeActionKind.QuickFix) for k in want):
        for f in state.findings:
            if not _overlaps(f, r.start.line, r.end.line):
                continue
            diag = [d for d in params.context.diagnostics if d.code == f.code]
            if f.fix is not None and f.fix.edits:
                texts = _texts(ls, f.fix.edits, path, doc.source, context)
                title = f"{f.code}: {f.fix.description}" + (" (unsafe fix)" if f.fix.safety != "safe" else "")
                out.append(types.CodeAction(
                    title=title, kind=types.CodeActionKind.QuickFix, diagnostics=diag or None,
                    is_preferred=f.fix.safety == "safe", edit=workspace_edit(_on_disk(f.fix.edits, path, context),
                                                                             texts, versions),
                ))  # fmt: skip
            if os.path.abspath(_abs(f.path, context)) == os.path.abspath(path):
                out.append(ignore_action(f, doc.source, uri, doc.version, diag))
    if not want or any(k.startswith("source") for k in want):
        action = fix_all_action(ls, uri, path, doc.source, doc.version, context)
        if action is not None:
            out.append(action)
    return out


def _abs(p: str, context: str) -> str:
    return p if os.path.isabs(p) else os.path.join(context, p)


def _on_disk(edits, path: str, context: str):
    """The edits with absolute paths (the Dockerfile's own shown relative to the context)."""
    from layerwise.records import replace

    return [replace(e, path=os.path.abspath(_abs(e.path, context))) for e in edits]


def _texts(ls: LayerwiseServer, edits, path: str, source: str, context: str) -> dict[str, str]:
    out = {os.path.abspath(path): source}
    for e in edits:
        p = os.path.abspath(_abs(e.path, context))
        if p not in out:
            text = ls._text_of(path_to_uri(p), p) if os.path.exists(p) else None
            if text is not None:
                out[p] = text
    return out


def ignore_action(f, source: str, uri: str, version, diag) -> types.CodeAction:
    """Add ``# layerwise: ignore[CODE]`` on a line of its own above the finding's instruction."""
    lines = Lines(source)
    line0 = f.line - 1
    content = lines.lines[line0] if line0 < len(lines.lines) else ""
    indent = content[: len(content) - len(content.lstrip())]
    newline = "\r\n" if content.endswith("\r\n") else "\n"
    pos = types.Position(line=line0, character=0)
    edit = types.TextEdit(range=types.Range(start=pos, end=pos),
                          new_text=f"{indent}# layerwise: ignore[{f.code}]{newline}")  # fmt: skip
    return types.CodeAction(
        title=f"{f.code}: ignore this finding (inline comment)", kind=types.CodeActionKind.QuickFix,
        diagnostics=diag or None,
        edit=types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version), edits=[edit])]),
    )  # fmt: skip


def fix_all_action(ls: LayerwiseServer, uri: str, path: str, source: str, version, context: str):
    """``layerwise fix`` on the unsaved text: the Dockerfile replaced whole, the other files it
    changes (``.dockerignore``, CI files) edited or created."""
    from layerwise.api import rules_for
    from layerwise.fixes.loop import fix_loop

    cfg = ls.config_for(context)
    rel = os.path.relpath(path, context)
    cwd = os.getcwd()
    try:
        os.chdir(context)  # the loop names the files it edits relative to the context
        out = fix_loop(source, rel, ".", dockerfile_path=rel, rules=rules_for(None, (), (), cfg))
    finally:
        os.chdir(cwd)
    changes: list = []
    if out.dockerfile != source:
        lines = Lines(source)
        whole = types.Range(start=types.Position(line=0, character=0), end=lines.at_offset(len(source)))
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=[types.TextEdit(range=whole, new_text=out.dockerfile)]))  # fmt: skip
    others = dict(out.others)
    if out.ignore_path is not None and out.ignore != out.ignore_original:
        others[out.ignore_path] = (out.ignore_original, out.ignore or "")
    for p, (before, after) in others.items():
        full = os.path.abspath(_abs(p, context))
        f_uri = path_to_uri(full)
        if before is None:
            changes.append(types.CreateFile(uri=f_uri, kind="create"))
            before = ""
        lines = Lines(before)
        whole = types.Range(start=types.Position(line=0, character=0), end=lines.at_offset(len(before)))
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=f_uri, version=None),
            edits=[types.TextEdit(range=whole, new_text=after)]))  # fmt: skip
    if not changes:
        return None
    n = len(out.applied)
    return types.CodeAction(title=f"layerwise: fix all ({n} fix{'es' if n != 1 else ''})", kind=SOURCE_FIX_ALL,
                            edit=types.WorkspaceEdit(document_changes=changes))  # fmt: skip


async def hover_at(ls: LayerwiseServer, uri: str, line: int) -> types.Hover | None:
    """The instruction under the cursor as BuildKit reads it (ARG/ENV expanded), for a
    COPY/ADD what it copies (the number and size of the files, from the kept context walk),
    and what the next build does with it (the prediction's full cause)."""
    from layerwise.parse import parse
    from layerwise.resolve.stages import resolve

    if not is_dockerfile(uri_to_path(uri)):
        return None
    doc = ls.workspace.get_text_document(uri)
    try:
        build = resolve(parse(doc.source, uri_to_path(uri)), {})
    except Exception:  # noqa: BLE001 - mid-edit text that does not parse: no hover
        return None
    state = ls.docs.get(uri)
    current = state is not None and ls.prediction_is_current(uri, state)
    step = None
    for stage in build.stages:
        for s in [*stage.steps]:
            inst = s.instruction
            if inst.line <= line <= inst.span.end_line:
                step = s
        if stage.from_.line == line:
            return _hover_text([f"**FROM** `{stage.base}`" + (f" AS {stage.name}" if stage.name else "")],
                               state, line, current)  # fmt: skip
    if step is None:
        return None
    inst = step.instruction
    parts = [f"**{inst.name.upper()}** (stage {step.stage.label if hasattr(step, 'stage') else ''})".replace(" (stage )", "")]
    expanded = {k: v for k, v in step.expanded.items() if v not in (None, "", [], {})}
    if expanded:
        parts.append("As BuildKit reads it:\n```\n" + "\n".join(f"{k}: {v}" for k, v in expanded.items()) + "\n```")
    from layerwise.parse.instructions import Copy

    if isinstance(inst, Copy):
        loop = asyncio.get_event_loop()
        what = await loop.run_in_executor(ls.pool, copied, ls, uri_to_path(uri), build, step)
        if what:
            parts.append(what)
    return _hover_text(parts, state, line, current)


def copied(ls: LayerwiseServer, path: str, build, step) -> str:
    """What a COPY/ADD copies, for its hover: from a stage or an image (named), URLs, inline
    files, and for the build context the number and total size of the files its sources
    select among those Docker sends (after ``.dockerignore``), with each source's share."""
    from layerwise.analyses.copies import REMOTE, sources
    from layerwise.context.report import human_size

    inst = step.instruction
    src = step.expanded.get("from") or inst.from_
    if src:
        refs = step.expanded.get("stage_refs") or ()
        if refs:
            stage = build.stages[refs[0]]
            return f"Copies from the stage `{stage.label}` (files of that stage's image, not of the build context)"
        return f"Copies from the image `{src}` (not from the build context)"
    srcs = [x for x in sources(step) if not x.startswith("<<")]
    notes = []
    if inst.contents:
        notes.append(f"{len(inst.contents)} inline file{'s' if len(inst.contents) != 1 else ''} (heredoc)")
    urls = [x for x in srcs if REMOTE.match(x)]
    if urls:
        notes.append(f"{len(urls)} download{'s' if len(urls) != 1 else ''} (not from the build context)")
    local = [x for x in srcs if not REMOTE.match(x)]
    if not local:
        return ("Copies " + ", ".join(notes)) if notes else ""
    context = ls.context_of(path)
    files, _ignore = ls.contexts.files(context, path)
    snap = files._snap
    seen: dict[str, int] = {}
    rows = []
    for x in local:
        try:
            entries = snap.select(x)
        except Exception:  # noqa: BLE001 - a bad pattern: the check reports it
            rows.append(f"- `{x}`: not a valid pattern")
            continue
        sel = [e for e in entries if e.kind == "file"]
        for e in sel:
            seen[e.path] = e.size
        size = sum(e.size for e in sel)
        rows.append(f"- `{x}`: " + (f"{_n(len(sel), 'file')}, {human_size(size)}" if entries else "selects nothing that is sent"))
    total = f"Copies **{_n(len(seen), 'file')}, {human_size(sum(seen.values()))}** from the build context (after .dockerignore)"
    if inst.excludes:
        total += f", before its --exclude pattern{'s' if len(inst.excludes) != 1 else ''}"
    if notes:
        total += "; and " + ", ".join(notes)
    return total + (":\n" + "\n".join(rows) if len(local) > 1 or not seen else "")


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 else ''}"


def _hover_text(parts: list[str], state: DocState | None, line: int, current: bool = True) -> types.Hover:
    step = state.steps.get(line) if state is not None and current else None
    if step is not None and step.status in ("cached", "rebuilt"):
        verdict = "comes from the cache" if step.status == "cached" else "rebuilds"
        parts.append(f"Next build (against HEAD): **{verdict}**" + (f": {step.cause.message}" if step.cause else ""))
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n".join(parts)))


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    build_server().start_io()
    return 0
