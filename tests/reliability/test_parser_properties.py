"""Property-based: every parser and check that user input reaches either accepts it or refuses it
with the console's own error (InputError, CertificateError): never another exception, never a
crash. Condition parsing and the access analysis have their own properties in tests/access."""

from __future__ import annotations

import base64
import unicodedata
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from acr_console.certificates import CertificateError, parse_certificate_bytes
from acr_console.operations.validation import (
    MAX_YEARS,
    InputError,
    check_credential_name,
    check_display_name,
    check_key_id,
    check_path,
    check_reference,
    check_role_name,
    credential_end,
    parse_end_date,
)
from acr_console.presentation import printable, printable_text
from acr_console.roles import builtin_by_name

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# Text as people paste it: any code point, with the awkward ones (controls, bidi, surrogates
# excluded by UTF-8 itself) made likely.
awkward = st.text(st.one_of(st.characters(), st.sampled_from(
    ["\x00", "\x1b", "\x9b", "\u202e", "\u2066", "\n", "\t", " ", "[", "]", "/", "'", "-", "0", "9", "T", "Z", ":",
     "+"])), max_size=80)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(awkward)
@example("~0")  # `~user` naming no user: found by this test, kept so it is tried on every run
@example("~no-such-user-here/key.pem")
def test_text_checks_accept_or_refuse(text: str) -> None:
    for check in (check_display_name, check_credential_name, lambda t: check_reference(t, "principal"),
                  lambda t: check_path(t, "--out"), check_key_id, check_role_name):
        try:
            result = check(text)
        except InputError:
            continue
        if check is check_role_name:
            assert builtin_by_name(result) is not None
        if check is check_display_name:
            assert result == text and printable(text) == text, "an accepted name must show as typed"


@FAST
@given(awkward, st.one_of(st.none(), st.integers(min_value=-10**30, max_value=10**30)))
def test_credential_end_accepts_or_refuses(end_date: str, years: int | None) -> None:
    for args in ((years, None), (None, end_date), (years, end_date)):
        try:
            end = credential_end(*args, NOW)
        except InputError:
            continue
        assert NOW + timedelta(hours=1) <= end <= NOW + timedelta(days=366 * MAX_YEARS)


@FAST
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([UTC, None])), st.sampled_from(["", "Z", "+14:00", "-12:00"]))
def test_iso_dates_parse_or_refuse(value: datetime, zone: str) -> None:
    text = value.replace(tzinfo=None).isoformat() + zone
    try:
        parsed = parse_end_date(text, NOW)
    except InputError:
        return
    assert parsed.tzinfo is not None


@FAST
@given(st.one_of(
    st.binary(max_size=2048),
    st.binary(max_size=512).map(lambda b: b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(b)
                                + b"-----END CERTIFICATE-----\n"),
    st.binary(max_size=256).map(lambda b: b"0\x82\x01\x00\x02\x01\x03" + b),
    st.binary(max_size=256).map(lambda b: b"-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(b)
                                + b"-----END PRIVATE KEY-----\n"),
))
def test_certificate_bytes_parse_or_refuse(data: bytes) -> None:
    try:
        info = parse_certificate_bytes(data, "input", now=NOW)
    except CertificateError as err:
        assert str(err).startswith("input"), "a refusal names the file"
        return
    assert info.thumbprint


@FAST
@given(awkward)
def test_printable_shows_everything_and_obeys_nothing(text: str) -> None:
    from rich.text import Text

    def obeyed(s: str) -> list[str]:
        return [c for c in s if unicodedata.category(c) == "Cc" or 0x202A <= ord(c) <= 0x202E
                or 0x2066 <= ord(c) <= 0x2069]

    shown = printable(text)
    assert len(shown) == len(text), "one stand-in per character: spans over the text stay valid"
    assert not obeyed(shown)
    assert not obeyed(printable_text(Text(text, style="bold"), keep_lines=False).plain)
    assert [c for c in printable(text, keep_lines=True) if c not in "\n\t"] == \
        [c for c in printable(text.replace("\n", "").replace("\t", ""))]
