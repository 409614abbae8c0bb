"""The parser reads an exec form's JSON array of plain strings without the json module
(``parse.parser._string_array``, #17: start-up); whatever it accepts, it reads exactly as
``json.loads`` does, and anything else (escapes, other values, errors) is left to json."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from layerwise.parse import parse
from layerwise.parse.parser import _string_array
from tests.fuzz.strategies import fuzz_settings

# the pieces exec forms (and broken ones) are made of: JSON's whitespace and others, quotes,
# commas, brackets, escapes, control characters, non-ASCII and surrogates
_PIECES = st.sampled_from([" ", "\t", "\n", "\r", "\v", "\f", "\xa0", '"', ",", "[", "]", "\\", "\\n", "\\u00e9",
                           "\\ud800", "\x00", "\x1f", "\x7f", "é", "\udcff", "a", "app.py", "-c", "1", "null",
                           "true", "{}", "/"])  # fmt: skip
_NEAR_JSON = st.lists(_PIECES, max_size=24).map(lambda ps: "[" + "".join(ps))
_STRING_ARRAYS = st.lists(st.text(max_size=8), max_size=5).flatmap(
    lambda items: st.sampled_from(["", " ", "\t", "\n", "\r\n"]).map(
        lambda ws: "[" + ws + ("," + ws).join(json.dumps(s, ensure_ascii=False) for s in items) + ws + "]" + ws
    )
)


def _json(text: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


@fuzz_settings()
@given(st.one_of(_NEAR_JSON, _STRING_ARRAYS))
@example('["python", "app.py"]')
@example('[ "a" ,"b" ]\r\n')
@example("[]")
@example('["a",]')
@example('["a"] x')
@example('["a" "b"]')
@example('["a\tb"]')
@example('["a\\"b"]')
@example('["a"]\v')
def test_what_it_reads_is_what_json_reads(text):
    got = _string_array(text)
    if got is not None:
        assert got == _json(text)
        assert all(isinstance(v, str) for v in got)


@pytest.mark.parametrize("text", ['["python", "app.py"]', '[ "sh" , "-c", "echo é" ]', "[]", '["a"]  '])
def test_plain_exec_forms_need_no_json(text):
    assert _string_array(text) == json.loads(text)


@pytest.mark.parametrize("text", ['["a\\nb"]', '["a",]', '["a"] x', '["a", 1]', '["a\x01"]', '["a"]\v', '["a'])
def test_anything_else_is_left_to_json(text):
    assert _string_array(text) is None


def test_the_parser_reads_exec_forms_as_before():
    df = parse('FROM x\nCMD ["python", "app.py"]\nRUN [ "sh", "-c", "echo \\"hi\\"" ]\nENTRYPOINT ["a",]\n')
    cmd, run, entry = df.nodes[1:]
    assert (cmd.json, cmd.args) == (True, ["python", "app.py"])
    assert (run.json, run.args) == (True, ["sh", "-c", 'echo "hi"'])
    assert entry.json is False  # not JSON: the shell form, as BuildKit reads it
