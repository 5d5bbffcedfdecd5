"""`parse_json` (azure/json_bodies.py), the one parser of ARM's and Graph's bodies: orjson, with the
standard library for what orjson refuses and RFC 8259 lets a parser accept, so every body reads as
json.loads reads it, or fails as it fails (ValueError)."""

from __future__ import annotations

import json

import pytest

from acr_console.azure.json_bodies import parse_json

BODIES = {
    "a page": b'{"value":[{"id":"/subscriptions/x","properties":{"scope":"/"}}],"nextLink":null}',
    # RFC 8259 §8.2: a lone surrogate escape; json reads it into a str, orjson refuses it.
    "lone surrogate": b'{"displayName":"bad \\ud800 name"}',
    "64-bit integers": b'{"min":-9223372036854775808,"max":9223372036854775807}',
    # §8.1: a parser MAY ignore a byte order mark; json.loads on bytes does.
    "byte order mark": b'\xef\xbb\xbf{"a":1}',
    "accents": '{"displayName":"Équipe café"}'.encode(),
}


@pytest.mark.parametrize("name", list(BODIES))
def test_a_body_reads_as_json_loads_reads_it(name: str) -> None:
    assert parse_json(BODIES[name]) == json.loads(BODIES[name])


# The last: nested past orjson's limit, where json.loads would raise RecursionError (no ValueError).
@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b'{"value": [', b"\xff\xfe",
                                  b"[" * 100_000 + b"]" * 100_000],
                         ids=["html", "cut short", "not UTF-8", "too deep"])
def test_what_is_not_json_fails_as_json_loads_fails(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(body)
