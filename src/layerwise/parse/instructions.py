"""Syntax tree -> typed instructions, ported from BuildKit's ``frontend/dockerfile/instructions``
(parse.go, bflag.go, commands_runmount.go, commands_runnetwork.go, commands_runsecurity.go).

Flags are validated as BuildKit validates them (unknown flag, duplicate, missing value, bad
boolean), with BuildKit's messages and the instruction's location. Values are kept as written:
variable expansion happens in :mod:`layerwise.resolve`, which knows the ARG/ENV scope.
"""

from __future__ import annotations

import re

from layerwise.errors import Location
from layerwise.parse.nodes import EMPTY, Dockerfile, Heredoc, Node, Span
from layerwise.parse.parser import ParseError, gc_paused, parse_heredoc
from layerwise.records import Record

INSTRUCTIONS = (
    "add", "arg", "cmd", "copy", "entrypoint", "env", "expose", "from", "healthcheck", "label",
    "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume", "workdir",
)  # fmt: skip

VALID_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")


class InstructionError(ParseError):
    """An instruction BuildKit would refuse (unknown keyword, bad flag, wrong arguments)."""


# --------------------------------------------------------------------------------------------
# bflag.go


class _Flags:
    """BuildKit's BFlags: declared flags, then ``parse()`` of the node's ``--flag[=value]`` list."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.kinds: dict[str, str] = {}
        self.values: dict[str, str | list[str]] = {}
        self.used: list[str] = []

    def add_bool(self, name: str) -> None:
        self.kinds[name] = "bool"

    def add_string(self, name: str) -> None:
        self.kinds[name] = "string"

    def add_strings(self, name: str) -> None:
        self.kinds[name] = "strings"
        self.values[name] = []

    def parse(self) -> None:
        for a in self.args:
            if a == "--":
                return
            if not a.startswith("--"):
                raise ValueError(f"arg should start with -- : {a}")
            flag_name, has_value, value = a.partition("=")
            name = flag_name[2:]
            kind = self.kinds.get(name)
            if kind is None:
                hint = _suggest(name, self.kinds)
                raise ValueError(f"unknown flag: {flag_name}" + (f" (did you mean {hint}?)" if hint else ""))
            if name in self.used and kind != "strings":
                raise ValueError(f"duplicate flag specified: {flag_name}")
            self.used.append(name)
            if kind == "bool":
                if has_value and value == "":
                    raise ValueError(f"missing a value on flag: {flag_name}")
                low = value.lower()
                if low in ("true", ""):
                    self.values[name] = "true"
                elif low == "false":
                    self.values[name] = "false"
                else:
                    raise ValueError(f"expecting boolean value for flag {flag_name}, not: {value}")
            elif kind == "string":
                if not has_value:
                    raise ValueError(f"missing a value on flag: {flag_name}")
                self.values[name] = value
            else:
                if not has_value:
                    raise ValueError(f"missing a value on flag: {flag_name}")
                self.values[name].append(value)  # type: ignore[union-attr]

    def str(self, name: str) -> str:
        v = self.values.get(name, "")
        return v if isinstance(v, str) else ""

    def bool(self, name: str) -> bool:
        return self.values.get(name) == "true"

    def strs(self, name: str) -> list[str]:
        v = self.values.get(name)
        return list(v) if isinstance(v, list) and v else EMPTY


class _NoFlags(_Flags):
    """An instruction without flags: each one has its default, nothing to declare or parse."""

    def __init__(self) -> None:
        super().__init__(EMPTY)

    def add_bool(self, name: str) -> None:
        pass

    add_string = add_strings = add_bool


_NO_FLAGS = _NoFlags()


def _suggest(name: str, options) -> str | None:
    import difflib

    match = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f"--{match[0]}" if match else None


# --------------------------------------------------------------------------------------------
# Typed instructions: slotted, and an empty list is the shared read-only EMPTY (a file can have
# millions of instructions). Plain classes written out rather than dataclasses: a dataclass
# generates and compiles its methods when the module is imported, and these 24 classes made
# that a large part of every ``layerwise check``'s start-up. ``_fields`` lists a record's
# fields in order; equality, repr and :meth:`Record.as_dict` follow it, as a dataclass's would.


class Instruction(Record):
    """Base of every typed instruction: the syntax node it came from."""

    __slots__ = ("node",)
    _fields = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node

    @property
    def name(self) -> str:
        return self.node.cmd

    @property
    def span(self) -> Span:
        return self.node.span

    @property
    def line(self) -> int:
        return self.node.span.start_line

    @property
    def original(self) -> str:
        return self.node.original

    @property
    def flags(self) -> list[str]:
        return self.node.flags


class KeyValue(Record):
    __slots__ = _fields = ("key", "value", "legacy")

    def __init__(self, key: str, value: str, legacy: bool = False) -> None:
        self.key = key
        self.value = value
        self.legacy = legacy  # ``ENV k v`` form


class ArgDef(Record):
    __slots__ = _fields = ("key", "value")

    def __init__(self, key: str, value: str | None) -> None:
        self.key = key
        self.value = value  # None: declared without a default


class Mount(Record):
    """A ``RUN --mount=...`` (values as written; expanded by the resolver)."""

    __slots__ = _fields = ("type", "target", "source", "from_", "id", "sharing", "readonly", "required", "mode",
                           "uid", "gid", "size", "env", "raw")  # fmt: skip

    def __init__(self, type: str = "bind", target: str = "", source: str = "", from_: str = "", id: str = "",
                 sharing: str = "", readonly: bool = True, required: bool = False, mode: int | None = None,
                 uid: int | None = None, gid: int | None = None, size: str = "", env: str | None = None,
                 raw: str = "") -> None:  # fmt: skip
        self.type = type
        self.target = target
        self.source = source
        self.from_ = from_
        self.id = id
        self.sharing = sharing
        self.readonly = readonly
        self.required = required
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.env = env
        self.raw = raw


class From(Instruction):
    _fields = ("node", "base", "stage_name", "platform")
    __slots__ = _fields[1:]

    def __init__(self, node: Node, base: str = "", stage_name: str = "", platform: str = "") -> None:
        self.node = node
        self.base = base
        self.stage_name = stage_name  # lower-cased, "" when unnamed
        self.platform = platform


class ShellDependent(Instruction):
    """RUN, CMD, ENTRYPOINT: a command line that is run through SHELL unless in JSON form."""

    _fields = ("node", "cmd_line", "prepend_shell", "files")
    __slots__ = _fields[1:]

    def __init__(self, node: Node, cmd_line: list[str] = EMPTY, prepend_shell: bool = True,
                 files: list[Heredoc] = EMPTY) -> None:  # fmt: skip
        self.node = node
        self.cmd_line = cmd_line
        self.prepend_shell = prepend_shell
        self.files = files


class Run(ShellDependent):
    _fields = (*ShellDependent._fields, "mounts", "mount_specs", "network", "security", "devices")
    __slots__ = _fields[len(ShellDependent._fields):]

    def __init__(self, node: Node, cmd_line: list[str] = EMPTY, prepend_shell: bool = True,
                 files: list[Heredoc] = EMPTY, mounts: list[Mount] = EMPTY, mount_specs: list[str] = EMPTY,
                 network: str = "default", security: str = "sandbox", devices: list[str] = EMPTY) -> None:  # fmt: skip
        self.node = node
        self.cmd_line = cmd_line
        self.prepend_shell = prepend_shell
        self.files = files
        self.mounts = mounts  # as written (see ``mount_specs``)
        self.mount_specs = mount_specs
        self.network = network
        self.security = security
        self.devices = devices


class Cmd(ShellDependent):
    __slots__ = ()


class Entrypoint(ShellDependent):
    __slots__ = ()


class SourceContent(Record):
    """An inline file given by a heredoc in COPY/ADD."""

    __slots__ = _fields = ("path", "data", "expand")

    def __init__(self, path: str, data: str, expand: bool) -> None:
        self.path = path
        self.data = data
        self.expand = expand


class Copy(Instruction):
    """COPY (and the base of ADD): sources, destination and the flags both share."""

    _fields = ("node", "sources", "contents", "dest", "chown", "chmod", "link", "from_", "parents", "excludes")
    __slots__ = _fields[1:]

    def __init__(self, node: Node, sources: list[str] = EMPTY, contents: list[SourceContent] = EMPTY,
                 dest: str = "", chown: str = "", chmod: str = "", link: bool = False, from_: str = "",
                 parents: bool = False, excludes: list[str] = EMPTY) -> None:  # fmt: skip
        self.node = node
        self.sources = sources
        self.contents = contents
        self.dest = dest
        self.chown = chown
        self.chmod = chmod
        self.link = link
        self.from_ = from_
        self.parents = parents
        self.excludes = excludes


class Add(Copy):
    __slots__ = ("checksum", "keep_git_dir", "unpack")
    _fields = (*Copy._fields, *__slots__)

    def __init__(self, node: Node, sources: list[str] = EMPTY, contents: list[SourceContent] = EMPTY,
                 dest: str = "", chown: str = "", chmod: str = "", link: bool = False, from_: str = "",
                 parents: bool = False, excludes: list[str] = EMPTY, checksum: str = "",
                 keep_git_dir: bool | None = None, unpack: bool | None = None) -> None:  # fmt: skip
        Copy.__init__(self, node, sources, contents, dest, chown, chmod, link, from_, parents, excludes)
        self.checksum = checksum
        self.keep_git_dir = keep_git_dir
        self.unpack = unpack


class Env(Instruction):
    __slots__ = ("pairs",)
    _fields = ("node", "pairs")

    def __init__(self, node: Node, pairs: list[KeyValue] = EMPTY) -> None:
        self.node = node
        self.pairs = pairs


class Label(Instruction):
    __slots__ = ("pairs",)
    _fields = ("node", "pairs")

    def __init__(self, node: Node, pairs: list[KeyValue] = EMPTY) -> None:
        self.node = node
        self.pairs = pairs


class Arg(Instruction):
    __slots__ = ("args",)
    _fields = ("node", "args")

    def __init__(self, node: Node, args: list[ArgDef] = EMPTY) -> None:
        self.node = node
        self.args = args


class Workdir(Instruction):
    __slots__ = ("path",)
    _fields = ("node", "path")

    def __init__(self, node: Node, path: str = "") -> None:
        self.node = node
        self.path = path


class User(Instruction):
    __slots__ = ("user",)
    _fields = ("node", "user")

    def __init__(self, node: Node, user: str = "") -> None:
        self.node = node
        self.user = user


class Expose(Instruction):
    __slots__ = ("ports",)
    _fields = ("node", "ports")

    def __init__(self, node: Node, ports: list[str] = EMPTY) -> None:
        self.node = node
        self.ports = ports


class Volume(Instruction):
    __slots__ = ("volumes",)
    _fields = ("node", "volumes")

    def __init__(self, node: Node, volumes: list[str] = EMPTY) -> None:
        self.node = node
        self.volumes = volumes


class Shell(Instruction):
    __slots__ = ("shell",)
    _fields = ("node", "shell")

    def __init__(self, node: Node, shell: list[str] = EMPTY) -> None:
        self.node = node
        self.shell = shell


class StopSignal(Instruction):
    __slots__ = ("signal",)
    _fields = ("node", "signal")

    def __init__(self, node: Node, signal: str = "") -> None:
        self.node = node
        self.signal = signal


class Maintainer(Instruction):
    __slots__ = ("maintainer",)
    _fields = ("node", "maintainer")

    def __init__(self, node: Node, maintainer: str = "") -> None:
        self.node = node
        self.maintainer = maintainer


class Healthcheck(Instruction):
    _fields = ("node", "test", "interval", "timeout", "start_period", "start_interval", "retries")
    __slots__ = _fields[1:]

    def __init__(self, node: Node, test: list[str] = EMPTY, interval: str = "", timeout: str = "",
                 start_period: str = "", start_interval: str = "", retries: int = 0) -> None:  # fmt: skip
        self.node = node
        self.test = test  # ["NONE"], ["CMD", ...] or ["CMD-SHELL", cmd]
        self.interval = interval
        self.timeout = timeout
        self.start_period = start_period
        self.start_interval = start_interval
        self.retries = retries


class Onbuild(Instruction):
    __slots__ = ("expression", "trigger")
    _fields = ("node", *__slots__)

    def __init__(self, node: Node, expression: str = "", trigger: Instruction | None = None) -> None:
        self.node = node
        self.expression = expression
        self.trigger = trigger


# --------------------------------------------------------------------------------------------
# parse.go


def _errors(node: Node, path: str):
    def err(message: str) -> InstructionError:
        return InstructionError(message, Location(path, node.span.start_line, node.span.start_column))

    return err


def _handle_json_args(args: list[str], is_json: bool) -> list[str]:
    # the node's list itself when it already is the result (lists are never changed in place)
    if is_json or len(args) == 1:
        return args
    return [" ".join(args)]


def _sources_and_dest(node: Node, args: list[str], command: str):
    srcs, dest = args[:-1], args[-1]
    if parse_heredoc(dest) is not None:
        raise ValueError(f"{command} cannot accept a heredoc as a destination")
    if not node.heredocs and not any("<<" in src for src in srcs):
        return srcs, EMPTY, dest  # no heredoc source (the common case)
    lookup = {h.name: h for h in node.heredocs}
    sources: list[str] = []
    contents: list[SourceContent] = []
    for src in srcs:
        doc = parse_heredoc(src)
        if doc is not None:
            found = lookup.get(doc.name)
            data = found.content if found else ""
            if doc.chomp:
                data = re.sub(r"(?m)^\t+", "", data)
            contents.append(SourceContent(doc.name, data, doc.expand))
        else:
            sources.append(src)
    return sources, contents or EMPTY, dest


def _mount_fields(value: str) -> list[str]:
    """A ``--mount`` value's comma-separated fields, read as CSV (BuildKit's encoding/csv)."""
    if not value:
        return []
    if not any(c in value for c in '"\r\n\0'):
        # no quotes and no line ends: what the CSV reader returns is the split on commas (the
        # usual mount, type=cache,target=/root/.cache), without importing csv (#17)
        return value.split(",")
    import csv

    try:
        return next(csv.reader([value], skipinitialspace=False))
    except csv.Error as exc:
        raise ValueError(f"failed to parse csv mounts: {exc}") from None


def parse_mount(value: str, expand=None) -> Mount:
    """``--mount`` value -> :class:`Mount` (BuildKit's ``parseMount``).

    ``expand`` maps each option value through ARG/ENV expansion; like BuildKit, values are
    only validated once they are expanded (``uid=$PUID`` is fine until ``PUID`` is known).
    """
    if expand is None:
        def expand(s: str) -> str:
            return s

    fields = _mount_fields(value)
    m = Mount(raw=value)
    ro_auto = True
    for f in fields:
        key, has_value, val = f.partition("=")
        key = key.lower()
        if not has_value:
            if key in ("readonly", "ro"):
                m.readonly, ro_auto = True, False
            elif key in ("readwrite", "rw"):
                m.readonly, ro_auto = False, False
            elif key == "required":
                if m.type not in ("secret", "ssh"):
                    raise ValueError(f"unexpected key '{key}' for mount type '{m.type}'")
                m.required = True
            else:
                raise ValueError(f"invalid field '{f}' must be a key=value pair")
            continue
        val = expand(val)
        if key == "type":
            v = val.lower()
            if v not in ("bind", "cache", "tmpfs", "secret", "ssh"):
                raise ValueError(f'unsupported mount type "{val}"')
            m.type = v
        elif key == "from":
            m.from_ = val
        elif key in ("source", "src"):
            m.source = val
        elif key in ("target", "dst", "destination"):
            m.target = val
        elif key in ("readonly", "ro", "readwrite", "rw"):
            b = _go_parse_bool(val)
            if b is None:
                raise ValueError(f"invalid value for {key}: {val}")
            m.readonly = b if key in ("readonly", "ro") else not b
            ro_auto = False
        elif key == "required":
            if m.type not in ("secret", "ssh"):
                raise ValueError(f"unexpected key '{key}' for mount type '{m.type}'")
            b = _go_parse_bool(val)
            if b is None:
                raise ValueError(f"invalid value for {key}: {val}")
            m.required = b
        elif key == "size":
            if m.type != "tmpfs":
                raise ValueError(f"unexpected key '{key}' for mount type '{m.type}'")
            m.size = val
        elif key == "id":
            m.id = val
        elif key == "sharing":
            if val.lower() not in ("shared", "private", "locked"):
                raise ValueError(f'unsupported sharing value "{val}"')
            m.sharing = val.lower()
        elif key in ("mode", "uid", "gid"):
            try:
                num = int(val, 8 if key == "mode" else 10)
            except ValueError:
                raise ValueError(f"invalid value {val} for {key}") from None
            setattr(m, key, num)
        elif key == "env":
            m.env = val
        else:
            raise ValueError(f"unexpected key '{key}' in '{f}'")
    if m.type not in ("secret", "ssh", "cache"):
        for k in ("mode", "uid", "gid"):
            if getattr(m, k) is not None:
                raise ValueError(f'{k} not allowed for "{m.type}" type mounts')
    if ro_auto:
        m.readonly = m.type not in ("cache", "tmpfs")
    if m.type == "secret":
        if m.from_:
            raise ValueError("secret mount should not have a from")
        if m.sharing:
            raise ValueError("secret mount should not define sharing")
        if not (m.source or m.target or m.id):
            raise ValueError("invalid secret mount. one of source, target required")
        if m.source and m.id:
            raise ValueError("both source and id can't be set")
    if m.sharing and m.type != "cache":
        raise ValueError(f"invalid cache sharing set for {m.type} mount")
    return m


def _go_parse_bool(s: str) -> bool | None:
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


def _kvps(args: list[str], name: str) -> list[KeyValue]:
    if not args:
        raise ValueError(f"{name} requires at least one argument")
    if len(args) % 3:
        raise ValueError(f"Bad input to {name}, too many arguments")
    out = []
    for j in range(0, len(args), 3):
        if not args[j]:
            raise ValueError(f"{name} names can not be blank")
        out.append(KeyValue(args[j], args[j + 1], args[j + 2] == ""))
    return out


def parse_instruction(node: Node, path: str = "Dockerfile") -> Instruction:
    """One syntax node -> its typed instruction, or :class:`InstructionError`."""
    err = _errors(node, path)
    try:
        return _parse(node, path)
    except InstructionError:
        raise
    except ValueError as exc:
        raise err(str(exc)) from None


def _parse(node: Node, path: str) -> Instruction:
    cmd = node.cmd
    args = node.args  # read only
    flags = _Flags(node.flags) if node.flags else _NO_FLAGS
    is_json = node.json

    if cmd == "env":
        flags.parse()
        return Env(node, _kvps(args, "ENV"))
    if cmd == "label":
        flags.parse()
        return Label(node, _kvps(args, "LABEL"))
    if cmd == "maintainer":
        if len(args) != 1:
            raise ValueError("MAINTAINER requires exactly one argument")
        flags.parse()
        return Maintainer(node, args[0])
    if cmd in ("add", "copy"):
        name = cmd.upper()
        if len(args) < 2:
            raise ValueError(
                f"{name} requires at least two arguments, but only one was provided."
                " Destination could not be determined"
            )
        for f in ("chown", "chmod"):
            flags.add_string(f)
        flags.add_bool("link")
        flags.add_strings("exclude")
        if cmd == "add":
            flags.add_bool("keep-git-dir")
            flags.add_string("checksum")
            flags.add_bool("unpack")
        else:
            flags.add_string("from")
            flags.add_bool("parents")
        flags.parse()
        sources, contents, dest = _sources_and_dest(node, args, name)
        common = {
            "sources": sources,
            "contents": contents,
            "dest": dest,
            "chown": flags.str("chown"),
            "chmod": flags.str("chmod"),
            "link": flags.bool("link"),
            "excludes": flags.strs("exclude"),
        }
        if cmd == "copy":
            return Copy(node, from_=flags.str("from"), parents=flags.bool("parents"), **common)
        return Add(
            node,
            checksum=flags.str("checksum"),
            keep_git_dir=flags.bool("keep-git-dir") if "keep-git-dir" in flags.used else None,
            unpack=flags.bool("unpack") if "unpack" in flags.used else None,
            **common,
        )
    if cmd == "from":
        stage_name = ""
        if len(args) == 3 and args[1].lower() == "as":
            stage_name = args[2].lower()
            if not VALID_STAGE_NAME.match(stage_name):
                raise ValueError(
                    f'invalid name for build stage: "{args[2]}", name can\'t start with a number'
                    " or contain symbols"
                )
        elif len(args) != 1:
            raise ValueError("FROM requires either one or three arguments")
        flags.add_string("platform")
        flags.parse()
        return From(node, base=args[0], stage_name=stage_name, platform=flags.str("platform"))
    if cmd == "onbuild":
        if node.trigger is None:
            raise ValueError("ONBUILD requires at least one argument")
        flags.parse()
        trig = node.trigger.cmd.upper()
        if trig == "ONBUILD":
            raise ValueError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        if trig in ("MAINTAINER", "FROM"):
            raise ValueError(f"{trig} isn't allowed as an ONBUILD trigger")
        expression = re.sub(r"(?i)^\s*ONBUILD\s*", "", node.original)
        for h in node.heredocs:
            expression += "\n" + h.content + h.name
        trigger_node = Node(
            keyword=node.trigger.keyword,
            flags=node.trigger.flags,
            args=node.trigger.args,
            original=node.trigger.original,
            span=node.span,
            json=node.trigger.json,
            heredocs=node.heredocs,
        )
        return Onbuild(node, expression=expression, trigger=_parse(trigger_node, path))
    if cmd == "workdir":
        if len(args) != 1:
            raise ValueError("WORKDIR requires exactly one argument")
        flags.parse()
        return Workdir(node, path=args[0])
    if cmd == "run":
        flags.add_strings("mount")
        flags.add_string("network")
        flags.add_string("security")
        flags.add_strings("device")
        flags.parse()
        mount_specs = flags.strs("mount")
        mounts = [] if mount_specs else EMPTY
        for spec in mount_specs:
            try:
                mounts.append(parse_mount(spec))
            except ValueError:
                if "$" not in spec:  # otherwise validated after expansion (resolve)
                    raise
                mounts.append(Mount(raw=spec))
        network = flags.str("network") or "default"
        if network not in ("default", "none", "host"):
            raise ValueError(f'invalid network mode "{network}"')
        security = flags.str("security") or "sandbox"
        if security not in ("sandbox", "insecure"):
            raise ValueError(f'security "{security}" is not valid')
        return Run(
            node,
            cmd_line=_handle_json_args(args, is_json),
            prepend_shell=not is_json,
            files=list(node.heredocs) or EMPTY,
            mounts=mounts,
            mount_specs=mount_specs,
            network=network,
            security=security,
            devices=flags.strs("device"),
        )
    if cmd in ("cmd", "entrypoint"):
        flags.parse()
        line = _handle_json_args(args, is_json) if args or is_json else EMPTY
        klass = Cmd if cmd == "cmd" else Entrypoint
        return klass(node, cmd_line=line, prepend_shell=not is_json, files=list(node.heredocs) or EMPTY)
    if cmd == "healthcheck":
        if not args:
            raise ValueError("HEALTHCHECK requires at least one argument")
        typ = args[0].upper()
        rest = args[1:]
        if typ == "NONE":
            if rest:
                raise ValueError("HEALTHCHECK NONE takes no arguments")
            flags.parse()
            return Healthcheck(node, test=["NONE"])
        for f in ("interval", "timeout", "start-period", "start-interval", "retries"):
            flags.add_string(f)
        flags.parse()
        if typ != "CMD":
            raise ValueError(f'Unknown type "{typ}" in HEALTHCHECK (try CMD)')
        line = _handle_json_args(rest, is_json)
        if not line or line == [""]:
            raise ValueError("Missing command after HEALTHCHECK CMD")
        retries = 0
        if flags.str("retries"):
            try:
                retries = int(flags.str("retries"))
            except ValueError:
                raise ValueError(
                    f'strconv.ParseInt: parsing "{flags.str("retries")}": invalid syntax'
                ) from None
            if retries < 0:
                raise ValueError(f"--retries cannot be negative ({retries})")
        return Healthcheck(
            node,
            test=(["CMD"] if is_json else ["CMD-SHELL"]) + line,
            interval=flags.str("interval"),
            timeout=flags.str("timeout"),
            start_period=flags.str("start-period"),
            start_interval=flags.str("start-interval"),
            retries=retries,
        )
    if cmd == "expose":
        if not args:
            raise ValueError("EXPOSE requires at least one argument")
        flags.parse()
        return Expose(node, ports=sorted(args))
    if cmd == "user":
        if len(args) != 1:
            raise ValueError("USER requires exactly one argument")
        flags.parse()
        return User(node, user=args[0])
    if cmd == "volume":
        if not args:
            raise ValueError("VOLUME requires at least one argument")
        flags.parse()
        vols = [v.strip() for v in args]
        if any(not v for v in vols):
            raise ValueError("VOLUME specified can not be an empty string")
        return Volume(node, volumes=vols)
    if cmd == "stopsignal":
        if len(args) != 1:
            raise ValueError("STOPSIGNAL requires exactly one argument")
        return StopSignal(node, signal=args[0])
    if cmd == "arg":
        if not args:
            raise ValueError("ARG requires at least one argument")
        defs = []
        for a in args:
            if "=" in a:
                k, _, v = a.partition("=")
                if not k:
                    raise ValueError("ARG names can not be blank")
                defs.append(ArgDef(k, v))
            else:
                defs.append(ArgDef(a, None))
        return Arg(node, args=defs)
    if cmd == "shell":
        flags.parse()
        line = _handle_json_args(args, is_json)
        if not args:
            raise ValueError("SHELL requires at least one argument")
        if not is_json:
            raise ValueError(f"SHELL requires the arguments to be in JSON form: {node.original}")
        return Shell(node, shell=line)
    hint = _suggest_instruction(node.keyword)
    raise ValueError(
        f"unknown instruction: {node.keyword}" + (f" (did you mean {hint}?)" if hint else "")
    )


def _suggest_instruction(word: str) -> str | None:
    import difflib

    match = difflib.get_close_matches(word.lower(), INSTRUCTIONS, n=1, cutoff=0.7)
    return match[0].upper() if match else None


SEEN_MAX = 4096  # instructions remembered by parse_instructions (then forgotten all at once)


@gc_paused
def parse_instructions(dockerfile: Dockerfile) -> list[Instruction]:
    """Every node of ``dockerfile`` as a typed instruction; the first bad one raises.

    Equal lines share their argument and flag lists (the parser's memo), so their instructions
    are equal too: such an instruction is copied from the first one, with its own node, and
    shares its values (lists, pairs, mounts; never changed in place) instead of parsing again.
    """
    out = []
    seen: dict[tuple, tuple[list[str], list[str], Instruction]] = {}
    for n in dockerfile.nodes:
        if n.heredocs or n.trigger is not None:  # their instructions hold node-specific parts
            out.append(parse_instruction(n, dockerfile.path))
            continue
        key = (id(n.args), id(n.flags), n.keyword, n.json)
        hit = seen.get(key)
        if hit is not None:
            out.append(_with_node(hit[2], n))
            continue
        inst = parse_instruction(n, dockerfile.path)
        if len(seen) >= SEEN_MAX:
            seen.clear()
        seen[key] = (n.args, n.flags, inst)  # the lists stay alive: their ids are not reused
        out.append(inst)
    return out


_FIELDS: dict[type, tuple[str, ...]] = {}


def _with_node(inst: Instruction, node: Node) -> Instruction:
    """A copy of ``inst`` for ``node`` (an equal line): the same values, shared."""
    cls = type(inst)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(n for n in cls._fields if n != "node")
    new = cls.__new__(cls)
    new.node = node
    for name in names:
        setattr(new, name, getattr(inst, name))
    return new
