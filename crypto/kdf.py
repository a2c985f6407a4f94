"""Passphrase key derivation: Argon2id with stored, bounded, calibrated parameters."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from crypto.encoding import b64d, b64e
from crypto.errors import BadParameters, MalformedData, quote

#: OWASP's Argon2id minimums, equivalent to each other: (memory KiB, passes). A slot must meet one of them.
OWASP_MINIMUMS = ((46 * 1024, 1), (19 * 1024, 2), (12 * 1024, 3), (9 * 1024, 4), (7 * 1024, 5))
MIN_MEMORY_KIB = 7 * 1024
#: Anything beyond these is refused before the KDF runs: a tampered slot must not exhaust the machine.
MAX_MEMORY_KIB = 1024 * 1024
MAX_ITERATIONS = 64
MAX_LANES = 16
#: Memory × passes: each bound alone still allows 1 GiB × 64 passes (minutes of work). Calibrated slots stay at or
#: under 64 MiB × 16 passes = 1 GiB-pass (`calibrated_params` caps the passes at 16), so that is the bound: one
#: derivation of at most 1 GiB of memory and about 1–3 s of one core (up to ~10 s on a heavily loaded 2-core machine).
MAX_MEMORY_TIME_PRODUCT = 1024 * 1024
SALT_BYTES = 16
KEY_BYTES = 32
#: Calibration aims at roughly 0.25–1 s on the machine that creates the slot.
TARGET_SECONDS = 0.35
CALIBRATION_MEMORY_KIB = 64 * 1024


@dataclass(frozen=True)
class KdfParams:
    """Argon2id parameters stored beside a key slot (salt included)."""

    salt: bytes
    memory_kib: int
    iterations: int
    lanes: int = 1

    def to_dict(self) -> dict[str, Any]:
        """Serialize for storage in a slot header."""
        return {
            "alg": "argon2id",
            "salt": b64e(self.salt),
            "memory_kib": self.memory_kib,
            "iterations": self.iterations,
            "lanes": self.lanes,
        }

    @classmethod
    def from_dict(cls, data: Any) -> KdfParams:
        """Parse and validate stored parameters; refuses absurd or too-weak values before any KDF runs."""
        if not isinstance(data, dict) or data.get("alg") != "argon2id":
            raise BadParameters("unsupported key derivation algorithm")
        fields: dict[str, int] = {}
        for name in ("memory_kib", "iterations", "lanes"):
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise BadParameters(f"key derivation parameter {name} is not an integer")
            fields[name] = value
        try:
            salt = b64d(data.get("salt"))
        except MalformedData as exc:
            raise BadParameters("key derivation salt is malformed") from exc
        params = cls(salt=salt, memory_kib=fields["memory_kib"], iterations=fields["iterations"], lanes=fields["lanes"])
        params.validate()
        return params

    def validate(self) -> None:
        """Raise BadParameters unless the parameters are within OWASP's minimum and our sanity maximum."""
        if not SALT_BYTES <= len(self.salt) <= 64:
            raise BadParameters("key derivation salt has the wrong length")
        if not 1 <= self.lanes <= MAX_LANES:
            raise BadParameters(f"key derivation lanes {quote(self.lanes)} out of range 1..{MAX_LANES}")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise BadParameters(f"key derivation iterations {quote(self.iterations)} out of range 1..{MAX_ITERATIONS}")
        if self.memory_kib > MAX_MEMORY_KIB:
            raise BadParameters(f"key derivation memory {quote(self.memory_kib)} KiB exceeds {MAX_MEMORY_KIB} KiB")
        if self.memory_kib * self.iterations > MAX_MEMORY_TIME_PRODUCT:
            raise BadParameters(
                f"key derivation cost {self.memory_kib} KiB × {self.iterations} passes exceeds {MAX_MEMORY_TIME_PRODUCT} KiB-passes"
            )
        if self.memory_kib < 8 * self.lanes:
            raise BadParameters("key derivation memory too small for its lanes")
        if not any(self.memory_kib >= memory and self.iterations >= passes for memory, passes in OWASP_MINIMUMS):
            raise BadParameters("key derivation cost below the OWASP minimum")

    def derive(self, passphrase: bytes) -> bytes:
        """Derive a 32-byte key from the passphrase (validates the parameters first)."""
        self.validate()
        kdf = Argon2id(
            salt=self.salt,
            length=KEY_BYTES,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        )
        return kdf.derive(passphrase)


def minimum_params() -> KdfParams:
    """OWASP's minimum Argon2id cost with a fresh salt (tests and throw-away demo stores)."""
    return KdfParams(salt=os.urandom(SALT_BYTES), memory_kib=19 * 1024, iterations=2, lanes=1)


def calibrated_params(target_seconds: float = TARGET_SECONDS) -> KdfParams:
    """Pick Argon2id iterations at 64 MiB so one derivation takes about `target_seconds` here."""
    probe = KdfParams(salt=os.urandom(SALT_BYTES), memory_kib=CALIBRATION_MEMORY_KIB, iterations=2)
    start = time.perf_counter()
    probe.derive(b"calibration")
    per_iteration = max((time.perf_counter() - start) / 2, 1e-4)
    iterations = min(max(2, math.ceil(target_seconds / per_iteration)), 16)
    return KdfParams(salt=os.urandom(SALT_BYTES), memory_kib=CALIBRATION_MEMORY_KIB, iterations=iterations)


def params_for_profile(profile: str | None) -> KdfParams:
    """Parameters for a new slot: calibrated by default, OWASP minimum when the profile says `minimum`."""
    if profile == "minimum":
        return minimum_params()
    return calibrated_params()
