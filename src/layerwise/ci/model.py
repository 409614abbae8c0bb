"""What a CI file says about one image build: :class:`CiBuild` and its :class:`CacheSpec` s."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pos:
    """A place in a CI file: 1-based line and column, and the character offset."""

    line: int
    column: int
    offset: int


@dataclass(frozen=True)
class CacheSpec:
    """One ``--cache-from``/``--cache-to`` value (``type=gha,mode=max,scope=api``), or the
    legacy ``--cache-from IMAGE`` form (``type=registry,ref=IMAGE``)."""

    raw: str
    attrs: dict[str, str]
    pos: Pos | None = None
    #: a ``type=local`` export that a later step of the job moves (``rm -rf /tmp/.buildx-cache &&
    #: mv /tmp/.buildx-cache-new /tmp/.buildx-cache``, Docker's documented pattern): the folder
    #: it ends up in, where the next run's import reads it
    moved_to: str | None = None

    @property
    def type(self) -> str:
        return self.attrs.get("type", "registry")

    @property
    def mode(self) -> str:
        """``min`` (BuildKit's default) or ``max``; inline cache is always min."""
        return "min" if self.type == "inline" else self.attrs.get("mode", "min")

    @property
    def scope(self) -> str | None:
        """The ``type=gha`` scope (``buildkit`` when not set, as BuildKit defaults it)."""
        return self.attrs.get("scope", "buildkit") if self.type == "gha" else None

    @property
    def location(self) -> str | None:
        """Where a ``type=local`` cache is once the job is done: the export's ``dest`` (or the
        folder a later step moves it to), the import's ``src``; None for other types."""
        if self.type != "local":
            return None
        where = self.moved_to or self.attrs.get("dest") or self.attrs.get("src")
        return where.rstrip("/") or "/" if where else None

    @property
    def opaque(self) -> bool:
        return "${{" in self.raw or "$" in self.raw.replace("$$", "")

    @classmethod
    def parse(cls, raw: str, pos: Pos | None = None) -> CacheSpec:
        text = raw.strip()
        attrs: dict[str, str] = {}
        if "=" not in text.split(",", 1)[0]:
            attrs = {"type": "registry", "ref": text}  # --cache-from IMAGE
        else:
            try:
                fields = next(csv.reader([text]))
            except (csv.Error, StopIteration):
                fields = text.split(",")
            for f in fields:
                key, sep, value = f.partition("=")
                if sep:
                    attrs[key.strip().lower()] = value.strip()
        return cls(text, attrs, pos)


@dataclass
class CiBuild:
    """One image build a CI file runs."""

    path: str  # the CI file, as shown to users
    pos: Pos  # the step (``uses:``) or the command's first word
    platform: str  # github | gitlab
    kind: str  # action | docker-build | buildx-build | compose-build
    job: str
    dockerfile: str | None  # repository-relative; None when unknown (an expression)
    context: str | None  # repository-relative; None when unknown
    target: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)
    cache_from: list[CacheSpec] = field(default_factory=list)
    cache_to: list[CacheSpec] = field(default_factory=list)
    no_cache: Pos | None = None  # where no-cache / --no-cache is set
    #: the builder can export a cache (setup-buildx-action earlier in the job, ``docker buildx
    #: create``, or a driver we cannot see); False: the default ``docker`` driver
    exporting_builder: bool = True
    matrix: bool = False  # the job runs once per matrix entry
    #: where the fix inserts things: the ``with:`` mapping of an action step, the end of the
    #: command's ``build`` word, the start of the step's line (for a step before it)
    with_pos: Pos | None = None
    with_indent: int | None = None
    step_line_offset: int | None = None
    step_indent: int | None = None
    uses_line_end: int | None = None
    command_insert: int | None = None
    inputs: dict[str, Pos] = field(default_factory=dict)  # where each input / option is

    @property
    def label(self) -> str:
        """How to name the build to a user (the finding's place says where): ``job 'build'``."""
        return f"job '{self.job}'"

    @property
    def uses_registry_inline(self) -> bool:
        """The build embeds cache metadata in the image it pushes."""
        return self.build_args.get("BUILDKIT_INLINE_CACHE") in ("1", "true") or any(
            c.type == "inline" for c in self.cache_to
        )


@dataclass
class CiError:
    """A CI file that could not be read or parsed, at a place in it."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass
class CiProject:
    """Every CI build of a repository, and the CI files that could not be read."""

    root: str | None
    builds: list[CiBuild] = field(default_factory=list)
    errors: list[CiError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # path -> text (code frames, edits)

    def builds_of(self, dockerfile: str) -> list[CiBuild]:
        """The builds of ``dockerfile`` (their ``file``/``-f`` resolves to it)."""
        me = os.path.realpath(dockerfile)
        return [b for b in self.builds if b.dockerfile is not None
                and os.path.realpath(os.path.join(self.root or ".", b.dockerfile)) == me]  # fmt: skip
