"""Hostile inputs: each one parses, or is rejected with a clear, located message; nothing crashes,
hangs or eats memory without bound. The parser, the instruction layer, resolution, the shell
lexer, the .dockerignore reader/matcher and the `inspect` / `explain` commands.

The biggest cases (a 100 MB Dockerfile, a million context entries) run with
``LAYERWISE_FUZZ=long``; by default smaller versions of the same shapes run.
Context walks with symlink loops and unreadable files are in tests/unit/test_snapshot.py.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from layerwise.cli import main
from layerwise.context.ignore import IgnoreFile, read_patterns
from layerwise.errors import LayerwiseError
from layerwise.parse import ParseError, parse, parse_bytes, parse_file
from layerwise.resolve.stages import resolve
from layerwise.shell.lex import ShellExpansionError, ShellLexer

LONG = os.environ.get("LAYERWISE_FUZZ") == "long"
REPO = Path(__file__).resolve().parents[2]


def _cli(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def _run_isolated(code: str, *, memory_gb: float, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``code`` in a child Python with an address-space limit: a blow-up fails the test
    instead of the machine. The timeout only guards against a hang. The child reports its
    peak memory as VmHWM (its own address space): ru_maxrss would include the test process's
    size, which the forked child carries until it execs."""
    limit = int(memory_gb * 1024**3)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=cap,
        cwd=REPO,
        check=False,
    )


# --- size ---------------------------------------------------------------------------------------


# Peak RSS of a child that parses and resolves a big file: a base (interpreter, modules, the
# text) plus this much per instruction. Measured (CPython 3.11): 100 MB of one short line
# repeated, 2.76 M instructions, 1.07 GB (2 KB per instruction, ~5.6 GB, before the
# compaction); 100 MB of the realistic mix, 2.99 M instructions, 1.53 GB for parse + resolve
# and 2.0 GB for `layerwise check` (docs/benchmarks.md, "Huge Dockerfiles").
RSS_BASE_MB = 60
RSS_PER_INSTRUCTION = 500  # bytes


@pytest.mark.skipif(not LONG, reason="100 MB: LAYERWISE_FUZZ=long (a 3 MB file runs by default)")
def test_100_mb_dockerfile_of_short_lines_parses(tmp_path):
    _big_file_parses(tmp_path, 100 * 1024 * 1024, memory_gb=4)


@pytest.mark.slow
def test_3_mb_dockerfile_of_short_lines_parses(tmp_path):
    _big_file_parses(tmp_path, 3 * 1024 * 1024, memory_gb=2)


def _big_file_parses(tmp_path, size: int, memory_gb: float) -> None:
    line = b"RUN echo hello world 0123456789 $HOME\n"
    path = tmp_path / "Dockerfile"
    with open(path, "wb") as f:
        f.write(b"FROM alpine\n")
        f.write(line * (size // len(line)))
    expected = 1 + size // len(line)
    r = _run_isolated(
        f"""
        import resource, time
        from layerwise.parse import parse_file
        from layerwise.resolve.stages import resolve
        t = time.time()
        df = parse_file({str(path)!r})
        parsed = time.time() - t
        build = resolve(df)
        total = time.time() - t
        rss = int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))) // 1024
        print(len(df.nodes), len(build.stages[0].steps), f"{{parsed:.1f}}", f"{{total:.1f}}", rss)
        """,
        memory_gb=memory_gb,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    nodes, steps, parsed, total, rss = r.stdout.split()
    assert int(nodes) == expected and int(steps) == expected - 1
    bound = RSS_BASE_MB + expected * RSS_PER_INSTRUCTION // 2**20
    print(f"{size >> 20} MB: parse {parsed} s, parse+resolve {total} s, peak RSS {rss} MB (bound {bound} MB)")
    assert int(rss) <= bound, f"peak RSS {rss} MB for {expected} instructions (bound {bound} MB)"


@pytest.mark.skipif(not LONG, reason="100 MB: LAYERWISE_FUZZ=long (a 1 MB file runs by default)")
def test_check_of_a_100_mb_realistic_dockerfile(tmp_path):
    # `layerwise check` itself: parse, resolve, every rule, the report. The github format: the
    # text format's code frames split the whole file once per finding (report/findings.py).
    _big_file_checks(tmp_path, 100 * 1024 * 1024, memory_gb=6, bound_mb=2600)


@pytest.mark.slow
def test_check_of_a_1_mb_realistic_dockerfile(tmp_path):
    _big_file_checks(tmp_path, 1024 * 1024, memory_gb=2, bound_mb=70)  # 93 MB before


def _big_file_checks(tmp_path, size: int, memory_gb: float, bound_mb: int) -> None:
    from tests.unit.huge_dockerfiles import realistic_lines, write

    path = tmp_path / "Dockerfile"
    write(path, realistic_lines(), size)
    out = tmp_path / "report.txt"
    r = _run_isolated(
        f"""
        import resource, sys, time
        from layerwise.cli import main
        t = time.time()
        try:
            main(["check", "--no-context", "--format", "github", "-o", {str(out)!r}, {str(path)!r}])
        except SystemExit as exc:
            code = exc.code
        rss = int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))) // 1024
        print(code, f"{{time.time() - t:.1f}}", rss)
        """,
        memory_gb=memory_gb,
        timeout=1800,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    code, seconds, rss = r.stdout.split()
    findings = out.read_text().count("\n")
    print(f"{size >> 20} MB: check {seconds} s, {findings} findings, peak RSS {rss} MB (bound {bound_mb} MB)")
    assert code == "1" and findings > 0
    assert int(rss) <= bound_mb, f"peak RSS {rss} MB (bound {bound_mb} MB)"


@pytest.mark.parametrize("megabytes", [100 if LONG else 10])
def test_big_file_with_an_overlong_line_is_rejected(tmp_path, megabytes):
    # a 100 MB file whose second line is 1 MB: BuildKit's scanner stops at the first line over
    # 64 KiB, and so do we, with the line number
    path = tmp_path / "Dockerfile"
    with open(path, "wb") as f:
        f.write(b"FROM alpine\nRUN " + b"x" * (1 << 20) + b"\n")
        f.write(b"RUN true\n" * ((megabytes << 20) // 9))
    r = _run_isolated(
        f"""
        from layerwise.parse import ParseError, parse_file
        try:
            parse_file({str(path)!r})
        except ParseError as exc:
            print(exc)
        """,
        memory_gb=4,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == f"{path}:2: dockerfile line greater than max allowed size of 65535"


def test_1_mb_single_line():
    data = b"FROM alpine\nRUN echo " + b"a" * (1 << 20) + b"\n"
    with pytest.raises(ParseError) as info:
        parse_bytes(data, "Dockerfile")
    assert str(info.value) == "Dockerfile:2: dockerfile line greater than max allowed size of 65535"


@pytest.mark.slow
def test_1_mb_logical_line_from_short_continuation_lines_parses():
    # each physical line is short: BuildKit accepts the 1 MB instruction, so do we
    text = "FROM alpine\nRUN echo \\\n" + "a \\\n" * (1 << 18) + "end\n"
    df = parse(text)
    assert len(df.nodes) == 2 and df.nodes[1].end_line == (1 << 18) + 3
    assert str(df) == text


def test_1_mb_single_line_cli(tmp_path, capsys):
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM alpine\nRUN echo " + b"a" * (1 << 20) + b"\n")
    code, _out, err = _cli(["inspect", str(path)], capsys)
    assert code == 2
    assert err == f"layerwise: error: {path}:2: dockerfile line greater than max allowed size of 65535\n"


# --- expansion ---------------------------------------------------------------------------------


def test_deeply_nested_expansion_resolves():
    depth = 5000
    word = "${A:-" * depth + "deep" + "}" * depth
    df = parse(f"FROM alpine\nRUN echo {word}\nENV X={word}\n")
    build = resolve(df)
    assert len(build.stages[0].steps) == 2
    assert ShellLexer().process_word(word, {}) == "deep"
    assert ShellLexer().process_word(word, {"A": "set"}) == "set"


@pytest.mark.slow
def test_deeply_nested_unclosed_expansion_is_a_located_error(tmp_path, capsys):
    depth = 100_000
    path = tmp_path / "Dockerfile"
    # short physical lines (BuildKit's 64 KiB line limit), one 500 KB instruction
    path.write_text("FROM alpine\nENV X=" + "${A:-\\\n" * depth + "\n")
    with pytest.raises(ShellExpansionError, match="missing '}'"):
        ShellLexer().process_word("${A:-" * depth, {})
    code, _out, err = _cli(["inspect", str(path)], capsys)
    assert code == 2
    assert err.startswith(f"layerwise: error: {path}:2:1: failed to process ")
    assert err.endswith("syntax error: missing '}'\n")


def test_expansion_error_message_stays_short(tmp_path, capsys):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\nENV X=" + "${A:-\\\n" * 10_000 + "\n")
    code, _out, err = _cli(["inspect", str(path)], capsys)
    assert code == 2 and len(err) < 1000, len(err)


def test_expansion_that_doubles_does_not_explode():
    # each ENV refers to the previous one twice: 2**40 characters if it were expanded eagerly
    lines = ["FROM alpine", "ENV V0=ab"]
    lines += [f"ENV V{i}=${{V{i - 1}}}${{V{i - 1}}}" for i in range(1, 41)]
    text = "\n".join(lines) + "\n"
    r = _run_isolated(
        f"""
        from layerwise.errors import LayerwiseError
        from layerwise.parse import parse
        from layerwise.resolve.stages import resolve
        try:
            resolve(parse({text!r}))
            print("resolved")
        except LayerwiseError as exc:
            print("error:", exc)
        except MemoryError:
            print("MemoryError")
        """,
        memory_gb=2,
        timeout=300,
    )
    # BuildKit would expand it too (and run out of memory): what we require is a clean end
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith(("resolved", "error:", "MemoryError"))
    print(r.stdout.strip())


# --- heredocs ----------------------------------------------------------------------------------


def test_heredoc_that_never_ends():
    text = "FROM alpine\nRUN <<EOF\n" + "echo line\n" * 100_000
    with pytest.raises(ParseError) as info:
        parse(text)
    assert str(info.value) == (
        "Dockerfile:100002: unterminated heredoc: no line 'EOF' closes the heredoc started on line 2"
    )


def test_heredoc_that_never_ends_cli(tmp_path, capsys):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\nCOPY <<-EOT /x\n\tdata\n")
    code, _out, err = _cli(["inspect", str(path)], capsys)
    assert code == 2
    assert err == (
        f"layerwise: error: {path}:3: unterminated heredoc: no line 'EOT' closes the heredoc"
        " started on line 2\n"
    )


def test_many_heredocs_on_one_line():
    names = [f"E{i}" for i in range(2000)]
    text = "FROM alpine\nRUN " + " ".join(f"<<{n}" for n in names) + "\n"
    text += "".join(f"body {n}\n{n}\n" for n in names)
    df = parse(text)
    assert [h.name for h in df.nodes[1].heredocs] == names
    assert str(df) == text


# --- bytes that are not text ------------------------------------------------------------------


def test_nul_bytes():
    with pytest.raises(ParseError) as info:
        parse_bytes(b"FROM alpine\nRUN echo a\x00b\n", "Dockerfile")
    assert str(info.value) == "Dockerfile:2:11: binary data (NUL byte): not a Dockerfile"


def test_binary_file_cli(tmp_path, capsys):
    path = tmp_path / "Dockerfile"
    path.write_bytes(bytes(range(256)) * 64)
    code, _out, err = _cli(["inspect", str(path)], capsys)
    assert code == 2
    assert err == f"layerwise: error: {path}:1:1: binary data (NUL byte): not a Dockerfile\n"


def test_invalid_utf8():
    with pytest.raises(ParseError) as info:
        parse_bytes("FROM alpine\nLABEL a=\"é\" b=\xff\n".encode("latin-1"), "Dockerfile")
    assert str(info.value) == (
        "Dockerfile:2:10: invalid UTF-8 (byte 0xe9): Dockerfiles must be UTF-8 text"
    )


def test_invalid_utf8_cli(tmp_path, capsys):
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM alpine\nRUN echo \xc3\x28\n")
    code, _out, err = _cli(["inspect", str(path)], capsys)
    assert code == 2
    assert err == (
        f"layerwise: error: {path}:2:10: invalid UTF-8 (byte 0xc3): Dockerfiles must be UTF-8 text\n"
    )


def test_utf16_file_is_rejected_as_binary():
    data = "FROM alpine\n".encode("utf-16")
    with pytest.raises(ParseError, match="binary data"):
        parse_bytes(data, "Dockerfile")


def test_lone_surrogates_in_text_round_trip():
    # text from elsewhere (not from bytes) may hold lone surrogates: kept, printed back
    df = parse("FROM alpine\nRUN echo \udcff\n")
    assert df.to_bytes() == "FROM alpine\nRUN echo \udcff\n".encode("utf-8", "surrogatepass")


# --- a Dockerfile that is not a file -----------------------------------------------------------


def test_dockerfile_is_a_directory(tmp_path, capsys):
    (tmp_path / "Dockerfile").mkdir()
    with pytest.raises(ParseError) as info:
        parse_file(tmp_path / "Dockerfile")
    assert info.value.message == "is a directory, not a Dockerfile"
    code, _out, err = _cli(["inspect", str(tmp_path / "Dockerfile")], capsys)
    assert (code, err) == (2, f"layerwise: error: {tmp_path / 'Dockerfile'}: is a directory, not a Dockerfile\n")


def test_dockerfile_is_a_directory_explain(tmp_path, capsys):
    (tmp_path / "Dockerfile").mkdir()
    code, _out, err = _cli(["explain", str(tmp_path), "--before", str(tmp_path)], capsys)
    assert code == 2
    assert err.startswith(f"layerwise: error: {tmp_path / 'Dockerfile'}: ")
    assert "internal error" not in err


def test_dockerfile_is_a_fifo(tmp_path, capsys):
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    with pytest.raises(ParseError) as info:
        parse_file(fifo)  # must not block waiting for a writer
    assert info.value.message == "is not a regular file (a FIFO, socket or device?)"
    code, _out, err = _cli(["inspect", str(fifo)], capsys)
    assert (code, err) == (2, f"layerwise: error: {fifo}: is not a regular file (a FIFO, socket or device?)\n")


def test_dockerfile_is_a_fifo_explain_between_folders(tmp_path, capsys):
    os.mkfifo(tmp_path / "Dockerfile")
    code, _out, err = _cli(["explain", str(tmp_path), "--before", str(tmp_path)], capsys)
    assert code == 2
    assert err.startswith(f"layerwise: error: {tmp_path / 'Dockerfile'}: ")


def test_dockerfile_is_a_fifo_explain_in_git_repo(tmp_path):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")  # fmt: skip
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path, check=True, env=env)
    os.mkfifo(tmp_path / "Dockerfile")
    r = subprocess.run(
        [sys.executable, "-m", "layerwise", "explain", str(tmp_path)],
        capture_output=True, text=True, timeout=5, cwd=tmp_path,
        check=False,
    )  # fmt: skip
    assert r.returncode == 2 and "FIFO" in r.stderr


def test_dockerfile_missing_and_unreadable(tmp_path, capsys):
    code, _out, err = _cli(["inspect", str(tmp_path / "nope")], capsys)
    assert (code, err) == (2, f"layerwise: error: {tmp_path / 'nope'}: no such file\n")
    path = tmp_path / "Dockerfile"
    path.write_text("FROM alpine\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user that can read mode-0 files")
        code, _out, err = _cli(["inspect", str(path)], capsys)
        assert (code, err) == (2, f"layerwise: error: {path}: permission denied\n")
    finally:
        path.chmod(0o644)


# --- .dockerignore -----------------------------------------------------------------------------


@pytest.mark.slow
def test_dockerignore_with_100000_patterns():
    n = 100_000
    text = "".join(f"dir{i}/file{i}.txt\n**/d{i}*/*.py\n!keep{i}\n" for i in range(n // 3))
    ignore = IgnoreFile.from_text(text)
    assert len(ignore.patterns) == 3 * (n // 3)
    assert ignore.excludes("dir7/file7.txt")
    assert ignore.excludes("x/y/d12a/m.py")
    assert not ignore.excludes("keep5")
    assert not ignore.excludes("src/app.py")


@pytest.mark.slow
def test_dockerignore_with_a_bad_pattern_among_many_names_its_line():
    text = "a\n" * 50_000 + "[z-a]\n" + "b\n" * 10
    with pytest.raises(LayerwiseError) as info:
        IgnoreFile.from_text(text, Path(".dockerignore"))
    assert info.value.location.line == 50_001
    assert "syntax error in pattern" in info.value.message


def test_dockerignore_binary_and_long_lines():
    patterns = read_patterns(b"\x00\xff\xfe*.py\n\xc3\x28\n")
    assert len(patterns) == 2
    with pytest.raises(LayerwiseError, match="line too long") as info:
        IgnoreFile.from_text(b"a\n" + b"x" * (1 << 20) + b"\n", Path(".dockerignore"))
    assert str(info.value) == ".dockerignore:2: line too long (bufio.Scanner: token too long)"


# --- contexts (what test_snapshot.py does not cover) -------------------------------------------


def _make_deep(root: Path, depth: int, name_len: int = 250) -> str:
    """Nested folders whose relative path exceeds PATH_MAX; made with dir fds."""
    names = [f"{i:03d}" + "n" * (name_len - 3) for i in range(depth)]
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for n in names:
            os.mkdir(n, dir_fd=fd)
            nfd = os.open(n, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        leaf = os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(leaf, b"deep")
        os.close(leaf)
    finally:
        os.close(fd)
    return "/".join([*names, "leaf.txt"])


def _rmtree_deep(root: Path) -> None:
    import shutil

    shutil.rmtree(root)  # fd-based on Linux: fine with paths over PATH_MAX


def test_context_with_paths_over_4096_bytes(tmp_path):
    from layerwise.context.snapshot import Snapshot

    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM alpine\nCOPY . /app\n")
    rel = _make_deep(ctx, depth=20)
    assert len(rel.encode()) > 4096
    try:
        snap = Snapshot.take(ctx, IgnoreFile.from_patterns(["**/*.tmp"]), use_cache=False, workers=1)
        # the walk goes as deep as the OS lets it, then says where and why (docker build's
        # walker, with absolute paths, fails there too)
        assert "Dockerfile" in {e.path for e in snap.files}
        [warning] = snap.warnings
        assert rel.startswith(warning.path + "/") and "File name too long" in warning.message
        # excluded before the limit: no warning at all
        snap2 = Snapshot.take(ctx, IgnoreFile.from_patterns(["000*"]), use_cache=False, workers=1)
        assert {e.path for e in snap2.files} == {"Dockerfile"} and not snap2.warnings
    finally:
        _rmtree_deep(ctx)


def test_context_with_paths_over_4096_bytes_cli(tmp_path, capsys):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM alpine\nCOPY . /app\n")
    _make_deep(ctx, depth=20)
    try:
        code, _out, err = _cli(["explain", str(ctx), "--before", str(ctx)], capsys)
        assert "internal error" not in err
        assert code in (0, 2), err
        print(code, err.strip()[:300])
    finally:
        _rmtree_deep(ctx)


@pytest.mark.slow
@pytest.mark.parametrize("entries", [1_000_000 if LONG else 20_000])
def test_context_with_many_entries(tmp_path, entries):
    ctx = tmp_path / "ctx"
    per_dir = 1000
    for d in range(entries // per_dir):
        sub = ctx / f"d{d:04d}"
        sub.mkdir(parents=True)
        for f in range(per_dir):
            (sub / f"f{f}.py").touch()
    r = _run_isolated(
        f"""
        import resource, time
        from layerwise.context.ignore import IgnoreFile
        from layerwise.context.snapshot import Snapshot
        t = time.time()
        snap = Snapshot.take({str(ctx)!r}, IgnoreFile.from_patterns(["d000*", "!d0001"]), use_cache=False)
        n = sum(1 for _ in snap.files)
        rss = int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))) // 1024
        print(n, f"{{time.time() - t:.1f}}", rss)
        """,
        memory_gb=4,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    n, seconds, rss = r.stdout.split()
    assert int(n) == entries - 9 * per_dir  # d0000, d0002..d0009 excluded
    print(f"{entries} entries: snapshot {seconds} s, peak RSS {rss} MB")
