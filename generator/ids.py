"""Deterministic seeds and ids.

Every patient gets its own seed derived from (master seed, batch, patient index) with a keyed hash, so a
patient's data does not depend on which worker made it or on how many patients came before it.
"""

from __future__ import annotations

import random
from hashlib import blake2b


def derive_seed(*parts: object) -> int:
    """A 64-bit seed from any parts; stable across processes and Python runs (unlike hash())."""
    key = "/".join(str(p) for p in parts).encode()
    return int.from_bytes(blake2b(key, digest_size=8).digest(), "big")


def patient_seed(seed: int, batch: int, index: int) -> int:
    return derive_seed("patient", seed, batch, index)


_VARIANT = {digit: "89ab"[int(digit, 16) >> 2] for digit in "0123456789abcdef"}  # RFC 4122 variant bits


def new_uuid(rng: random.Random) -> str:
    """A random (version 4 layout) UUID drawn from `rng`, so ids replay with the seed."""
    text = f"{rng.getrandbits(128):032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:]}"
