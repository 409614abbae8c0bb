"""Fix test tables, pyupgrade style: ``assert fixed(CODE, before) == after``. The rule's fixes
are applied by ``layerwise fix``'s own loop (only that rule selected) until nothing changes;
the result must then be free of the rule's fixable findings, and fixing it again changes
nothing."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from layerwise.fixes import fix_dockerfile_text
from tests.unit.rules.helpers import findings


def fixed(code: str, dockerfile: str, files: dict[str, str] | None = None, *, unsafe: bool = False) -> str:
    text = textwrap.dedent(dockerfile).lstrip("\n")
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for rel, content in (files or {}).items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(content).lstrip("\n"))
        (root / "Dockerfile").write_text(text)
        ctx = root if files is not None else None
        kwargs = {"unsafe_fixes": True} if unsafe and _takes_unsafe() else {}
        out, _, _ = fix_dockerfile_text(text, str(root / "Dockerfile"), ctx, select={code}, **kwargs)
        again, _, _ = fix_dockerfile_text(out, str(root / "Dockerfile"), ctx, select={code}, **kwargs)
        assert again == out, f"a second fix run changed:\n{out}\n->\n{again}"
    left = [f for f in findings(code, out, files) if f.fix is not None and f.fix.edits and (unsafe or f.fix.safety == "safe")]
    assert not left, [(f.line, f.message) for f in left]
    return out


def _takes_unsafe() -> bool:
    import inspect

    return "unsafe_fixes" in inspect.signature(fix_dockerfile_text).parameters
