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


def new_uuid(rng: random.Random) -> str:
    """A random (version 4 layout) UUID drawn from `rng`, so ids replay with the seed."""
    value = rng.getrandbits(128)
    text = f"{value:032x}"
    variant = "89ab"[(value >> 62) & 3]
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{variant}{text[17:20]}-{text[20:]}"
