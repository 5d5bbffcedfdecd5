"""`compact_json_encoder` (cli/output.py), the report's per-entry JSON: one line, and the characters a
terminal would obey escaped, whichever path the text takes (ASCII or not).

JSON escapes C0 controls itself (RFC 8259 §7); DEL, the C1 controls (0x9B is a one-byte CSI, ECMA-48
§5.3) and the bidirectional overrides and isolates (Unicode TR #9, "Trojan Source" CVE-2021-42574) it
leaves raw, so the encoder escapes them; parsed back, every string is the directory's exactly.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acr_console.cli.output import compact_json_encoder, json_text

HOSTILE = {
    "DEL in ASCII": "a\x7fb",
    "C1 CSI": "x\x9b31mred",
    "right-to-left override": "rtl \u202eexe.txt",
    "isolate": "\u2066abc\u2069",
    "NUL and escape": "a\x00b\x1b[2J",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_what_a_terminal_would_obey_is_escaped_and_parses_back(name: str) -> None:
    text = compact_json_encoder()({"displayName": HOSTILE[name], "pull": True, "paths": [{"role": "AcrPull"}]})
    assert "\n" not in text
    assert not any(ch in text for ch in "\x00\x1b\x7f\x9b\u202e\u2066\u2069")
    assert json.loads(text)["displayName"] == HOSTILE[name]


def test_plain_and_accented_text_is_written_as_is() -> None:
    encode = compact_json_encoder()
    assert encode({"a": "ci-push", "b": [1, None, False]}) == '{"a":"ci-push","b":[1,null,false]}'
    accented = encode({"displayName": "Équipe café"})
    # Standard output here is a pipe in UTF-8 (pytest's capture) or ASCII: either way the same string.
    assert json.loads(accented)["displayName"] == "Équipe café"


# What the report's entries hold: strings (any code point but lone surrogates), integers, booleans,
# null, lists and objects. Floats are left out: orjson writes 1e16 where json writes 1e+16, the same
# number; no entry holds one.
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_DOCS = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _TEXT,
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
                     max_leaves=12)


@pytest.fixture
def utf8_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_DOCS)
def test_the_fast_encoder_writes_what_json_text_writes(utf8_stdout: None, doc: Any) -> None:
    """orjson on a UTF-8 standard output gives byte for byte the one-line json_text (the standard
    library's encoder), escapes included."""
    assert compact_json_encoder()(doc) == json_text(doc, pretty=False)


def test_what_orjson_refuses_is_written_by_json_and_parses_back(utf8_stdout: None) -> None:
    """A lone surrogate (json.loads reads `"\\ud800"` into one, RFC 8259 §8.2) and a key that is not a
    string: orjson raises TypeError; the entry is written with ASCII escapes instead, never lost."""
    lone = json.loads('"bad \\ud800 name"')
    text = compact_json_encoder()({"displayName": lone, 7: "seven"})
    assert text.isascii()
    assert json.loads(text) == {"displayName": lone, "7": "seven"}
