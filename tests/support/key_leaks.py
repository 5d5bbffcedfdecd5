"""Finding a private key where it must not be, by the key's own secret bytes.

A certificate holds the key's public half (the modulus and exponent), so searching for the first lines
of a key's PEM body (the PKCS#8 header and the modulus) finds the *certificate* wherever it is shown or
stored, and only when its base64 happens to line up with the key file's: the check then passed or
failed with the certificate's subject length mod 3. What must never leak is the private part, so the
needles here come from it alone:

- the private exponent `d` and the primes `p` and `q` (each a run of DER bytes nobody else has), as
  raw bytes, as hex, and as base64 at each of the three alignments a run of bytes can have in a
  longer base64 text (the run starting at byte 0, 1 or 2 of a 3-byte group), standard and URL-safe;
- the lines of the PEM body that encode nothing but private bytes (a key file copied whole, or any
  64-character line of it);
- the PEM armour `PRIVATE KEY-----` itself.

Text is searched as it is and with its whitespace (and JSON's escaped line breaks) removed, so a PEM
body split across lines, or a base64 line break falling inside a needle, is still found.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# Long enough that no public value shares it by chance (2^-192), short enough to fit inside any of
# d, p and q of a 2048-bit key with room to spare.
WINDOW = 24
ARMOUR = "PRIVATE KEY-----"
_SPACE = re.compile(r"\s+|\\n|\\r")
_KEY_BLOCK = re.compile(r"-----BEGIN ((?:RSA )?PRIVATE KEY)-----(.*?)-----END \1-----", re.S)


def _int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def base64_alignments(data: bytes) -> list[str]:
    """The base64 text any base64 encoding of a stream holding `data` must contain, whichever of the
    three offsets mod 3 `data` starts at: for shift k, the encoding of data[k:] cut to whole 3-byte
    groups (standard alphabet, no padding)."""
    out = []
    for k in range(3):
        chunk = data[k:]
        chunk = chunk[: len(chunk) - len(chunk) % 3]
        if chunk:
            out.append(base64.b64encode(chunk).decode())
    return out


@dataclass(frozen=True)
class KeyNeedles:
    """What to look for, for one private key."""

    texts: tuple[str, ...]
    binary: tuple[bytes, ...]

    @classmethod
    def of_pem(cls, pem: str | bytes) -> KeyNeedles:
        """From a PEM text holding one RSA private key (a certificate beside it is ignored)."""
        text = pem.decode() if isinstance(pem, bytes) else pem
        block = _KEY_BLOCK.search(text)
        assert block is not None, "no private key in the PEM"
        key = serialization.load_pem_private_key(block.group(0).encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey), "only RSA keys are made by the console"
        numbers = key.private_numbers()
        lines = block.group(2).split()
        der = base64.b64decode("".join(lines))
        secrets = [_int_bytes(v) for v in (numbers.d, numbers.p, numbers.q)]
        windows = []
        for value in secrets:
            assert value in der
            middle = len(value) // 2
            windows.append(value[middle - WINDOW // 2: middle + WINDOW // 2])
        texts: list[str] = []
        for w in windows:
            texts.append(w.hex())
            for b64 in base64_alignments(w):
                texts += [b64, b64.replace("+", "-").replace("/", "_")]
        texts += private_pem_lines(lines, der, secrets)
        return cls(tuple(dict.fromkeys(texts)), tuple(windows))

    def found_in(self, text: str | bytes, *, armour: bool = True) -> list[str]:
        """The needles `text` holds (a short prefix of each, never the needle whole): [] means clean.
        `armour=False` leaves out the PEM armour, which every key file has (to tell one key from another)."""
        if isinstance(text, bytes):
            hits = [n.hex()[:8] for n in self.binary if n in text]
            text = text.decode("latin-1")
        else:
            hits = []
        flat = _SPACE.sub("", text)
        folded = flat.lower()
        for needle in (ARMOUR, *self.texts) if armour else self.texts:
            haystack = folded if re.fullmatch(r"[0-9a-f]+", needle) else flat
            if needle in text or needle.replace(" ", "") in haystack:
                hits.append(needle[:8] + "…")
        return hits


def private_pem_lines(lines: list[str], der: bytes, secrets: list[bytes]) -> list[str]:
    """The PEM body lines (48 DER bytes each) that lie wholly inside d, p or q."""
    spans = []
    for value in secrets:
        start = der.index(value)
        spans.append((start, start + len(value)))
    out = []
    offset = 0
    for line in lines:
        size = len(base64.b64decode(line))
        if any(a <= offset and offset + size <= b for a, b in spans):
            out.append(line)
        offset += size
    return out
