"""Typed instructions: BuildKit's flag and argument validation, as a table."""

from __future__ import annotations

import pytest

from layerwise.parse import parse
from layerwise.parse.instructions import (
    Add,
    Copy,
    From,
    Healthcheck,
    InstructionError,
    Onbuild,
    Run,
    parse_instructions,
)


def one(text: str):
    return parse_instructions(parse("FROM x\n" + text))[-1]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("COPY --chwon=1 a b", "unknown flag: --chwon (did you mean --chown?)"),
        ("COPY --link --link a b", "duplicate flag specified: --link"),
        ("COPY --from a b", "missing a value on flag: --from"),
        ("COPY --link=maybe a b", "expecting boolean value for flag --link, not: maybe"),
        ("COPY a", "COPY requires at least two arguments"),
        ("ADD --from=x a b", "unknown flag: --from"),
        ("RUN --network=bridge x", 'invalid network mode "bridge"'),
        ("RUN --security=open x", 'security "open" is not valid'),
        ("RUN --mount=type=nfs x", 'unsupported mount type "nfs"'),
        ("RUN --mount=type=bind,uid=1 x", 'uid not allowed for "bind" type mounts'),
        ("RUN --mount=type=secret x", "one of source, target required"),
        ("RUN --mount=type=bind,sharing=locked x", "invalid cache sharing set for bind mount"),
        ("RUN --mount=type=cache,target=/c,bogus=1 x", "unexpected key 'bogus'"),
        ("WORKDIR", "WORKDIR requires exactly one argument"),
        ("HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments"),
        ("HEALTHCHECK CONNECT x", 'Unknown type "CONNECT" in HEALTHCHECK'),
        ("HEALTHCHECK --retries=-1 CMD x", "--retries cannot be negative (-1)"),
        ("ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger"),
        ("SHELL /bin/bash -c", "SHELL requires the arguments to be in JSON form"),
        ("ARG =x", "ARG names can not be blank"),
        ("FROM a AS 1st", 'invalid name for build stage: "1st"'),
        ("FROM a b", "FROM requires either one or three arguments"),
        ("RUNN x", "unknown instruction: RUNN (did you mean RUN?)"),
        ("COPY a <<EOF\nx\nEOF", "COPY cannot accept a heredoc as a destination"),
    ],
)
def test_rejected_like_buildkit(line, message):
    with pytest.raises(InstructionError) as info:
        one(line)
    assert message in info.value.message
    assert info.value.location.line == 2


def test_copy_flags():
    c = one("COPY --from=build --chown=app:app --chmod=755 --link --parents --exclude=*.pyc --exclude=t a b /dst/")
    assert isinstance(c, Copy) and not isinstance(c, Add)
    assert (c.from_, c.chown, c.chmod, c.link, c.parents) == ("build", "app:app", "755", True, True)
    assert c.excludes == ["*.pyc", "t"]
    assert (c.sources, c.dest) == (["a", "b"], "/dst/")


def test_add_flags():
    a = one("ADD --checksum=sha256:abc --keep-git-dir=false --unpack https://x/y.tgz /x")
    assert isinstance(a, Add)
    assert (a.checksum, a.keep_git_dir, a.unpack) == ("sha256:abc", False, True)


def test_copy_heredoc_sources():
    c = one("COPY <<one <<-two /dst/\nfirst\none\n\tsecond\n\ttwo")
    assert [(x.path, x.data) for x in c.contents] == [("one", "first\n"), ("two", "second\n")]
    assert c.sources == []


def test_run_mounts_and_forms():
    r = one("RUN --mount=type=cache,target=/root/.cache/pip,id=pip,sharing=locked "
            "--mount=type=secret,id=tok,required --network=none pip install x")  # fmt: skip
    assert isinstance(r, Run)
    cache, secret = r.mounts
    assert (cache.type, cache.target, cache.id, cache.sharing, cache.readonly) == (
        "cache", "/root/.cache/pip", "pip", "locked", False)  # fmt: skip
    assert (secret.type, secret.id, secret.required, secret.readonly) == ("secret", "tok", True, True)
    assert r.network == "none" and r.prepend_shell and r.cmd_line == ["pip install x"]
    exec_form = one('RUN ["python", "-m", "pip", "install", "x"]')
    assert not exec_form.prepend_shell and exec_form.cmd_line == ["python", "-m", "pip", "install", "x"]


def test_mount_with_variables_is_validated_after_expansion():
    r = one("RUN --mount=type=cache,target=/c,uid=$UID echo")
    assert r.mount_specs == ["type=cache,target=/c,uid=$UID"]


def test_from_healthcheck_onbuild():
    f = parse_instructions(parse("FROM --platform=$BUILDPLATFORM python:3.12 AS Build\n"))[0]
    assert isinstance(f, From) and (f.base, f.stage_name, f.platform) == ("python:3.12", "build", "$BUILDPLATFORM")
    h = one('HEALTHCHECK --interval=5s CMD ["curl", "-f", "http://x/"]')
    assert isinstance(h, Healthcheck) and h.test == ["CMD", "curl", "-f", "http://x/"] and h.interval == "5s"
    assert one("HEALTHCHECK CMD curl -f http://x/ || exit 1").test == ["CMD-SHELL", "curl -f http://x/ || exit 1"]
    o = one("ONBUILD COPY . /app")
    assert isinstance(o, Onbuild) and isinstance(o.trigger, Copy) and o.expression == "COPY . /app"
