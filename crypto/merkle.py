"""RFC 6962 / RFC 9162 Merkle tree hashing: tree roots, a compact frontier, inclusion and consistency proofs.

Leaves and nodes are domain-separated (`leaf_hash = SHA-256(0x00 ‖ data)`, `node_hash = SHA-256(0x01 ‖ l ‖ r)`),
the tree of n leaves splits at the largest power of two below n (RFC 6962 §2.1 MTH), and the empty tree's root
is `SHA-256("")`. The proof generators take the full list of leaf hashes (the store keeps them, one per log
entry); `Frontier` keeps only the roots of the perfect subtrees a growing log is made of, so the writer can
compute each new root without reading the log. Verifiers return False on any malformed input and never raise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from crypto.errors import MalformedData

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
#: Largest tree size a frontier or proof accepts (what SQLite's INTEGER holds).
MAX_SIZE = (1 << 63) - 1
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: `SHA-256(0x00 ‖ data)`."""
    return hashlib.sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`."""
    return hashlib.sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below `n` (n ≥ 2): where RFC 6962 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (RFC 6962 MTH) of the given leaf hashes; `SHA-256("")` for none.

    Computed level by level, a lone last node carried up unchanged, which is the same tree as MTH's split at
    the largest power of two below n, without recursion.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


class Frontier:
    """The compact range of a growing tree: one root per perfect subtree, largest (leftmost) first.

    A tree of n leaves has one stored subtree per set bit of n, so `append` costs O(log n) hashes amortised
    O(1), and `root()` folds at most log n hashes. `to_bytes()` (8-byte big-endian size, then the subtree
    roots) is what the store keeps between transactions.
    """

    __slots__ = ("_nodes", "_size")

    def __init__(self) -> None:
        """An empty tree."""
        self._size = 0
        self._nodes: list[bytes] = []

    @property
    def size(self) -> int:
        """How many leaves have been appended."""
        return self._size

    @property
    def nodes(self) -> tuple[bytes, ...]:
        """The perfect subtrees' roots, leftmost (largest) first."""
        return tuple(self._nodes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (32 bytes: `leaf_hash(data)`, not the data itself)."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf)}")
        if self._size >= MAX_SIZE:
            raise ValueError("tree is full")
        merged, n = bytes(leaf), self._size
        while n & 1:
            merged = node_hash(self._nodes.pop(), merged)
            n >>= 1
        self._nodes.append(merged)
        self._size += 1

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Append several leaf hashes in order."""
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """The tree hash of everything appended so far (equal to `root()` of the same leaf hashes)."""
        if not self._nodes:
            return EMPTY_ROOT
        folded = self._nodes[-1]
        for node in reversed(self._nodes[:-1]):
            folded = node_hash(node, folded)
        return folded

    def copy(self) -> Frontier:
        """An independent copy (appending to one leaves the other as it was)."""
        twin = Frontier()
        twin._size, twin._nodes = self._size, list(self._nodes)
        return twin

    def to_bytes(self) -> bytes:
        """Serialized form: the size as 8 bytes big-endian, then each subtree root."""
        return self._size.to_bytes(8, "big") + b"".join(self._nodes)

    @classmethod
    def from_bytes(cls, data: bytes) -> Frontier:
        """Parse `to_bytes()` output; MalformedData unless the length matches the size's number of subtrees."""
        if not isinstance(data, bytes | bytearray | memoryview) or len(data) < 8:
            raise MalformedData("Merkle frontier is too short")
        raw = bytes(data)
        size = int.from_bytes(raw[:8], "big")
        if size > MAX_SIZE:
            raise MalformedData("Merkle frontier size is out of range")
        count = size.bit_count()
        if len(raw) != 8 + count * HASH_SIZE:
            raise MalformedData(f"Merkle frontier of {size} leaves must hold {count} hashes")
        frontier = cls()
        frontier._size = size
        frontier._nodes = [raw[8 + i * HASH_SIZE : 8 + (i + 1) * HASH_SIZE] for i in range(count)]
        return frontier

    def __eq__(self, other: object) -> bool:
        """Two frontiers are equal when they describe the same tree."""
        return isinstance(other, Frontier) and self._size == other._size and self._nodes == other._nodes

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable

    def __repr__(self) -> str:
        """Size and root, short."""
        return f"Frontier(size={self._size}, root={self.root().hex()[:16]}…)"


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `leaf_hashes` (RFC 9162 §2.1.3.1 PATH), leaf side first.

    ValueError unless 0 ≤ index < len(leaf_hashes).
    """
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} is outside a tree of {n} leaves")
    path: list[bytes] = []
    lo, hi, m = 0, n, index
    # Walk from the root down, collecting the sibling subtree of each split; reverse at the end (leaf first).
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(root(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root(leaf_hashes[lo : lo + k]))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SIZE


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """Whether `proof` shows leaf hash `leaf` at `index` in the tree of `size` leaves with root `root_hash`.

    RFC 9162 §2.1.3.2; False (never an exception) for any malformed argument.
    """
    if not (_is_size(index) and _is_size(size) and _is_hash(leaf) and _is_hash(root_hash)):
        return False
    if isinstance(proof, str | bytes) or not all(_is_hash(p) for p in proof):
        return False
    if index >= size:
        return False
    fn, sn, running = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            running = node_hash(sibling, running)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            running = node_hash(running, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and running == root_hash


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The proof that the tree of the first `old_size` leaves is a prefix of the tree of all `leaf_hashes`.

    RFC 9162 §2.1.4.1 (SUBPROOF); empty when old_size is 0 or equal to the size. ValueError unless
    0 ≤ old_size ≤ len(leaf_hashes).
    """
    n = len(leaf_hashes)
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} is outside 0..{n}")
    if old_size in (0, n):
        return []
    proof: list[bytes] = []
    lo, hi, m, complete = 0, n, old_size, True
    # SUBPROOF(m, D[lo:hi], complete), unrolled: each step records one sibling and narrows to one side.
    while True:
        if m == hi - lo:
            if not complete:
                proof.append(root(leaf_hashes[lo:hi]))
            break
        k = _split(hi - lo)
        if m <= k:
            proof.append(root(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            proof.append(root(leaf_hashes[lo : lo + k]))
            lo, m, complete = lo + k, m - k, False
    proof.reverse()
    return proof


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether `proof` shows the tree (`old_size`, `old_root`) is a prefix of the tree (`new_size`, `new_root`).

    RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots; an old size of 0 needs an empty proof
    and the empty tree's root (every tree extends the empty one). False (never an exception) for any malformed
    argument.
    """
    if not (_is_size(old_size) and _is_size(new_size) and _is_hash(old_root) and _is_hash(new_root)):
        return False
    if isinstance(proof, str | bytes) or not all(_is_hash(p) for p in proof):
        return False
    if old_size > new_size:
        return False
    if old_size == 0:  # nothing to prove about the new root: it is trusted from its own signed checkpoint
        return not proof and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not proof and old_root == new_root
    path = list(proof)
    if not path:
        return False
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
