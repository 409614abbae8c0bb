"""Parse what ``docker build`` prints into per-step results (pure functions).

Two formats, both as printed by the engine itself:

BuildKit, ``--progress=plain``::

    #6 [2/4] WORKDIR /app                      (vertex 6 is step 2 of 4 of the only stage)
    #6 CACHED
    #8 [builder 3/5] RUN pip install -r r.txt  (stage "builder")
    #8 0.318 Collecting flask==2.3.2           (output of the step, with a time offset)
    #8 DONE 0.9s
    #9 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
    ERROR: failed to solve: ...

  Vertices may be printed in several pieces, interleaved with others; they are
  tracked by their ``#N`` number. ``[internal]`` vertices, ``exporting to image``
  and other unnumbered vertices are not steps. Instructions that only change the
  image config (CMD, ENV, LABEL, ...) have no vertex, so BuildKit reports no step
  for them.

Legacy builder (``DOCKER_BUILDKIT=0``)::

    Step 3/5 : ADD . /app
     ---> Using cache                          (the step was a cache hit)
     ---> Running in 0627a67f106c              (a container ran: RUN, or a commit)
     ---> 4fb1edfddefb                         (the resulting image)
    The command '/bin/sh -c exit 3' returned a non-zero code: 3

  Every instruction is a step. A step without ``Using cache`` was executed.
  The legacy builder prints no durations; when the caller recorded the time each
  line arrived, the duration of a step is the time from its ``Step`` line to the
  next step's line (or to the end of the output).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "ParsedBuild",
    "StepResult",
    "detect_format",
    "parse_build_output",
    "parse_buildkit_output",
    "parse_legacy_output",
]


@dataclass
class StepResult:
    """One Dockerfile step as the engine reported it.

    ``index``/``total``: the engine's own numbering: BuildKit's ``[i/n]`` counts
    within the stage; the legacy builder's ``Step i/n`` counts over the whole file.
    ``stage``: the stage name the engine printed (``builder``, ``stage-0``), or
    None when the Dockerfile has a single stage. For the legacy builder it is the
    ``AS`` name of the stage's FROM, else ``stage-K``, and None for a single stage.
    ``status``: ``cached`` | ``done`` (executed) | ``error`` | ``canceled`` |
    ``unknown`` (the output ended before the engine said).
    ``seconds``: BuildKit's ``DONE 1.2s``; for the legacy builder the measured
    time between lines if line times were given; else None.
    """

    index: int
    total: int
    stage: str | None
    instruction: str
    status: str = "unknown"
    seconds: float | None = None
    vertex: int | None = None
    error: str | None = None
    output: list[str] = field(default_factory=list)

    @property
    def cached(self) -> bool:
        return self.status == "cached"

    @property
    def ran(self) -> bool:
        """The engine executed the step (it was not a cache hit)."""
        return self.status in ("done", "error")

    @property
    def keyword(self) -> str:
        """The instruction keyword, upper case (``RUN``, ``COPY``...)."""
        return self.instruction.split(None, 1)[0].upper() if self.instruction.strip() else ""

    def short(self) -> str:
        where = f"{self.stage} " if self.stage else ""
        secs = f" {self.seconds:.1f}s" if self.seconds is not None else ""
        return f"[{where}{self.index}/{self.total}] {self.instruction} -> {self.status}{secs}"


@dataclass
class ParsedBuild:
    format: str  # "buildkit" | "legacy" | "unknown"
    steps: list[StepResult]
    error: str | None = None
    image_id: str | None = None


_BK_LINE = re.compile(r"^#(\d+) (.*)$")
# "[2/4] X", "[builder 2/4] X", and with --platform lists "[linux/amd64 builder 2/4] X".
# The step number is padded to the width of the total: "[ 3/10] X", "[builder  3/10] X".
_BK_STEP = re.compile(r"^\[(?:(?P<stage>[^\]]*[^\]\s]) +)? *(?P<i>\d+)/(?P<n>\d+)\] (?P<instr>.*)$")
_BK_DONE = re.compile(r"^DONE (\d+(?:\.\d+)?)s$")
_BK_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_BK_OUT = re.compile(r"^\d+(?:\.\d+)? (.*)$")
_BK_IMAGE = re.compile(r"writing image (sha256:[0-9a-f]{64})")

_LG_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_LG_ARROW = re.compile(r"^ ---> (.*)$")
_LG_FROM_AS = re.compile(r"^FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$", re.IGNORECASE)
_LG_BUILT = re.compile(r"^Successfully built ([0-9a-f]{12,64})$")
_LG_CMD_FAIL = re.compile(r"^The command .* returned a non-zero code: \d+")


def detect_format(lines: Sequence[str]) -> str:
    for line in lines:
        if _LG_STEP.match(line):
            return "legacy"
        m = _BK_LINE.match(line)
        if m and (_BK_STEP.match(m.group(2)) or m.group(2).startswith("[internal]")):
            return "buildkit"
    return "unknown"


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _split(text: str | Iterable[str]) -> list[str]:
    """Lines without their ANSI colour codes (the legacy builder colours stderr
    of RUN red, so `` ---> ...`` may follow a reset code on the same line)."""
    lines = text.splitlines() if isinstance(text, str) else [ln.rstrip("\r\n") for ln in text]
    return [_ANSI.sub("", ln) if "\x1b" in ln else ln for ln in lines]


def parse_build_output(
    text: str | Iterable[str], times: Sequence[float] | None = None
) -> ParsedBuild:
    """Parse a whole ``docker build`` output, either format (detected)."""
    lines = _split(text)
    fmt = detect_format(lines)
    if fmt == "legacy":
        return parse_legacy_output(lines, times)
    if fmt == "buildkit":
        return parse_buildkit_output(lines)
    err = next((ln.strip() for ln in reversed(lines) if ln.strip()), None)
    return ParsedBuild("unknown", [], error=err)


def parse_buildkit_output(text: str | Iterable[str]) -> ParsedBuild:
    lines = _split(text)
    steps: dict[int, StepResult] = {}
    order: list[int] = []
    errors: list[str] = []
    image_id = None
    for line in lines:
        if line.startswith(("ERROR:", "ERROR ")):
            errors.append(line.strip())
            continue
        m = _BK_LINE.match(line)
        if not m:
            continue
        vid, rest = int(m.group(1)), m.group(2)
        im = _BK_IMAGE.search(rest)
        if im:
            image_id = im.group(1)
        step = steps.get(vid)
        if step is None:
            sm = _BK_STEP.match(rest)
            if sm:
                steps[vid] = StepResult(
                    index=int(sm.group("i")),
                    total=int(sm.group("n")),
                    stage=sm.group("stage"),
                    instruction=sm.group("instr").strip(),
                    vertex=vid,
                )
                order.append(vid)
            continue
        if rest == "CACHED":
            step.status = "cached"
        elif (dm := _BK_DONE.match(rest)) is not None:
            step.status = "done"
            step.seconds = float(dm.group(1))
        elif rest.startswith("ERROR"):
            step.status = "error"
            step.error = rest[len("ERROR"):].lstrip(": ").strip() or None
            dm = re.search(r"(\d+(?:\.\d+)?)s$", rest)
            if rest.startswith("ERROR ") and dm:  # "#8 ERROR 0.3s" (older form)
                step.seconds = float(dm.group(1))
        elif rest.startswith("CANCELED"):
            step.status = "canceled"
        elif _BK_STEP.match(rest) and rest.endswith(step.instruction):
            pass  # the vertex name printed again when its output resumes
        elif _BK_DIGEST.match(rest):
            pass  # BuildKit v0.8 prints the vertex digest under its name
        else:
            om = _BK_OUT.match(rest)
            step.output.append(om.group(1) if om else rest)
    error = errors[-1] if errors else None
    if error is not None and error.startswith("ERROR:"):
        error = error[len("ERROR:"):].strip()
    if error is None:
        failed = [steps[v] for v in order if steps[v].status == "error"]
        if failed:
            error = failed[-1].error
    # BuildKit prints vertices as they start, which for cache hits and parallel
    # stages is not Dockerfile order. Put them in order: stages by first
    # appearance, steps by their index within the stage.
    rank: dict[str | None, int] = {}
    for v in order:
        rank.setdefault(steps[v].stage, len(rank))
    ordered = sorted(order, key=lambda v: (rank[steps[v].stage], steps[v].index))
    return ParsedBuild("buildkit", [steps[v] for v in ordered], error=error, image_id=image_id)


def parse_legacy_output(
    text: str | Iterable[str], times: Sequence[float] | None = None
) -> ParsedBuild:
    lines = _split(text)
    if times is not None and len(times) != len(lines):
        times = None
    steps: list[StepResult] = []
    starts: list[float | None] = []
    stage_names: list[str | None] = []
    stage_of: list[int] = []
    error = None
    image_id = None
    end_time = times[-1] if times else None
    cur: StepResult | None = None
    for k, line in enumerate(lines):
        sm = _LG_STEP.match(line)
        if sm:
            instr = sm.group(3).strip()
            if instr.split(None, 1)[0].upper() == "FROM" if instr else False:
                am = _LG_FROM_AS.match(instr)
                stage_names.append(am.group(1) if am else None)
            cur = StepResult(
                index=int(sm.group(1)), total=int(sm.group(2)), stage=None, instruction=instr
            )
            steps.append(cur)
            starts.append(times[k] if times else None)
            stage_of.append(max(len(stage_names) - 1, 0))
            continue
        bm = _LG_BUILT.match(line)
        if bm:
            image_id = bm.group(1)
            if times:
                end_time = times[k]
            continue
        if _LG_CMD_FAIL.match(line):
            error = line.strip()
            if cur is not None:
                cur.status = "error"
                cur.error = error
            continue
        if cur is None:
            continue
        am = _LG_ARROW.match(line)
        if am:
            what = am.group(1).strip()
            if what == "Using cache":
                cur.status = "cached"
            elif what.startswith("Running in "):
                cur.status = "done" if cur.status != "cached" else cur.status
            elif re.fullmatch(r"[0-9a-f]{12,64}", what) and cur.status == "unknown":
                cur.status = "done"
            # "Removed intermediate container ..." (newer) carries no information
            continue
        if line.startswith(("Removing intermediate container ", "Successfully tagged ")):
            continue
        cur.output.append(line)
    # Stage names: only when the file has several stages.
    if len(stage_names) > 1:
        for s, st in zip(stage_of, steps):
            st.stage = stage_names[s] or f"stage-{s}"
    # Durations from line times.
    if times:
        for k, st in enumerate(steps):
            t0 = starts[k]
            t1 = starts[k + 1] if k + 1 < len(steps) else end_time
            if t0 is not None and t1 is not None:
                st.seconds = round(max(t1 - t0, 0.0), 3)
    if error is None and steps and steps[-1].status in ("unknown",):
        # Output ended inside a step (e.g. a client error); take the last line as the error.
        last = next((ln.strip() for ln in reversed(lines) if ln.strip()), None)
        if last and not _LG_ARROW.match(last):
            error = last
            steps[-1].status = "error"
            steps[-1].error = last
    return ParsedBuild("legacy", steps, error=error, image_id=image_id)
