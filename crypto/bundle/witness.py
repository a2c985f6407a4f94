"""The witness fields of v2 bundles and receipts: the writer's latest checkpoint and consistency proofs.

`checkpoint` is the signed note of the writer's audit log (C2SP tlog-checkpoint, `crypto/checkpoint.py`),
carried as text; `proofs` are RFC 9162 consistency proofs from earlier tree sizes the writer sent the same
counterpart up to this checkpoint's size. This module checks their shape only; the store opens the note with
the counterpart's key and checks the proofs against what it saw before (docs/bundle-format.md §14).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crypto.bundle.limits import MAX_CHECKPOINT_NOTE, MAX_PROOF_HASHES, MAX_PROOFS, MAX_TREE_SIZE
from crypto.bundle.strict import BundleError, require_b64, require_int, require_object
from crypto.encoding import b64e


@dataclass(frozen=True)
class Proof:
    """A consistency proof from the tree of size `from_size` to the carried checkpoint's tree."""

    from_size: int
    hashes: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {"from": self.from_size, "hashes": [b64e(h) for h in self.hashes]}


def parse_checkpoint_field(value: Any, what: str) -> str:
    """The note as text: 1..8,192 bytes of UTF-8, ending in a newline (its content is checked by the store)."""
    if not isinstance(value, str) or not value.endswith("\n"):
        raise BundleError(f"{what} checkpoint must be a signed note (text ending in a newline)")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise BundleError(f"{what} checkpoint is not valid UTF-8") from None
    if size > MAX_CHECKPOINT_NOTE:
        raise BundleError(f"{what} checkpoint is larger than {MAX_CHECKPOINT_NOTE} bytes")
    return value


def parse_proofs(raw: Any, what: str) -> tuple[Proof, ...]:
    """1..32 proofs, each `{"from": size ≥ 1, "hashes": [b64(32 bytes), …]}` (≤ 126 hashes), sizes distinct."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_PROOFS:
        raise BundleError(f"{what} proofs must hold 1..{MAX_PROOFS} consistency proofs")
    proofs: list[Proof] = []
    for i, item in enumerate(raw):
        obj = require_object(item, {"from", "hashes"}, f"{what} proof {i + 1}")
        size = require_int(obj["from"], 1, MAX_TREE_SIZE, f"{what} proof {i + 1} size")
        hashes = obj["hashes"]
        if not isinstance(hashes, list) or len(hashes) > MAX_PROOF_HASHES:
            raise BundleError(f"{what} proof {i + 1} must list at most {MAX_PROOF_HASHES} hashes")
        proofs.append(Proof(size, tuple(require_b64(h, 32, f"{what} proof {i + 1} hash") for h in hashes)))
    sizes = [p.from_size for p in proofs]
    if sizes != sorted(set(sizes)):
        raise BundleError(f"{what} proofs must be sorted by size, each size once")
    return tuple(proofs)


__all__ = ["Proof", "parse_checkpoint_field", "parse_proofs"]
