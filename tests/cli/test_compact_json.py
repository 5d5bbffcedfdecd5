"""`compact_json_encoder` (cli/output.py), the report's per-entry JSON: one line, and the characters a
terminal would obey escaped, whichever path the text takes (ASCII or not).

JSON escapes C0 controls itself (RFC 8259 §7); DEL, the C1 controls (0x9B is a one-byte CSI, ECMA-48
§5.3) and the bidirectional overrides and isolates (Unicode TR #9, "Trojan Source" CVE-2021-42574) it
leaves raw, so the encoder escapes them; parsed back, every string is the directory's exactly.
"""

from __future__ import annotations

import json

import pytest

from acr_console.cli.output import compact_json_encoder

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
