"""The Merkle tree against a plain recursive RFC 6962 recomputation: roots, the incremental frontier, and
inclusion and consistency proofs that verify for every pair up to 64 leaves and fail once anything is changed."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import MalformedData
from crypto.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# ---- a plain recomputation, straight from RFC 6962 §2.1 / RFC 9162 §2.1 ------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf *data*, recursively."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    if m == len(d):
        return [] if b else [mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def data(n: int, salt: bytes = b"") -> list[bytes]:
    return [salt + i.to_bytes(4, "big") for i in range(n)]


def hashes(d: list[bytes]) -> list[bytes]:
    return [leaf_hash(x) for x in d]


# ---- hashing and roots -------------------------------------------------------------------------------


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    # a leaf holding what looks like two child hashes does not hash like the node
    assert leaf_hash(b"\x01" + b"a" * 32 + b"b" * 32) != node_hash(b"a" * 32, b"b" * 32)


def test_rfc6962_edge_cases() -> None:
    assert root([]) == EMPTY_ROOT == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert root([leaf_hash(b"")]) == bytes.fromhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    one = leaf_hash(b"x")
    assert root([one]) == one
    for n in (2, 4, 8, 16, 32, 64, 128):  # powers of two: a perfect tree
        d = data(n)
        assert root(hashes(d)) == mth(d)
        assert root(hashes(d)) == node_hash(root(hashes(d[: n // 2])), root(hashes(d[n // 2 :])))


def test_rfc6962_reference_roots() -> None:
    """The roots of the 8-leaf test tree of the RFC 6962 reference code (certificate-transparency merkle tests)."""
    leaves = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    expected = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
    for n in range(1, 9):
        assert root(hashes(leaves[:n])).hex() == expected[n - 1]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=300))
def test_root_and_frontier_match_the_recursive_definition(d: list[bytes]) -> None:
    expected = mth(d)
    assert root(hashes(d)) == expected
    frontier = Frontier()
    for i, h in enumerate(hashes(d)):
        frontier.append(h)
        assert frontier.size == i + 1
    assert frontier.root() == expected
    assert len(frontier.nodes) == len(d).bit_count()
    restored = Frontier.from_bytes(frontier.to_bytes())
    assert restored == frontier and restored.root() == expected and restored.size == len(d)


def test_frontier_grows_the_same_after_a_round_trip() -> None:
    frontier = Frontier()
    d = data(200)
    for i, h in enumerate(hashes(d)):
        frontier = Frontier.from_bytes(frontier.to_bytes())  # as the store does between transactions
        frontier.append(h)
        assert frontier.root() == root(hashes(d[: i + 1]))
    twin = frontier.copy()
    twin.append(leaf_hash(b"more"))
    assert frontier.size == 200 and twin.size == 201 and twin.root() != frontier.root()


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00" * 7, (1).to_bytes(8, "big"), (1).to_bytes(8, "big") + b"\x00" * 31,
     (3).to_bytes(8, "big") + b"\x00" * 32, (2).to_bytes(8, "big") + b"\x00" * 64, b"\xff" * 8],
)  # fmt: skip
def test_a_malformed_frontier_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedData):
        Frontier.from_bytes(raw)


def test_frontier_refuses_a_leaf_that_is_not_a_hash() -> None:
    with pytest.raises(ValueError):
        Frontier().append(b"data, not a hash")


# ---- inclusion proofs --------------------------------------------------------------------------------


def _flip(proof: list[bytes], i: int) -> list[bytes]:
    edited = list(proof)
    edited[i] = bytes([edited[i][0] ^ 1]) + edited[i][1:]
    return edited


def test_inclusion_proofs_for_every_leaf_of_every_tree_up_to_64() -> None:
    for n in range(1, 65):
        d = data(n)
        hs = hashes(d)
        tree_root = root(hs)
        for index in range(n):
            proof = inclusion_proof(index, hs)
            assert proof == path(index, d)
            assert verify_inclusion(index, n, hs[index], proof, tree_root)
            # any change refuses: another leaf, index, size, root, or a flipped proof hash
            assert not verify_inclusion(index, n, leaf_hash(b"other"), proof, tree_root)
            assert not verify_inclusion(index, n, hs[index], proof, leaf_hash(b"other root"))
            if n > 1:
                assert not verify_inclusion((index + 1) % n, n, hs[index], proof, tree_root)
            for i in range(len(proof)):
                assert not verify_inclusion(index, n, hs[index], _flip(proof, i), tree_root)
            if proof:
                assert not verify_inclusion(index, n, hs[index], proof[:-1], tree_root)
            assert not verify_inclusion(index, n, hs[index], [*proof, hs[0]], tree_root)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=65, max_value=3000), pick=st.integers(min_value=0), salt=st.binary(max_size=4))
def test_inclusion_proofs_in_larger_trees(n: int, pick: int, salt: bytes) -> None:
    d = data(n, salt)
    hs = hashes(d)
    index = pick % n
    proof = inclusion_proof(index, hs)
    assert proof == path(index, d)
    assert verify_inclusion(index, n, hs[index], proof, mth(d))
    assert not verify_inclusion(index, n, hs[index], _flip(proof, pick % len(proof)), mth(d))
    assert not verify_inclusion(index ^ 1, n, hs[index], proof, mth(d))


def test_inclusion_arguments_out_of_range() -> None:
    hs = hashes(data(5))
    with pytest.raises(ValueError):
        inclusion_proof(5, hs)
    with pytest.raises(ValueError):
        inclusion_proof(-1, hs)
    good = inclusion_proof(2, hs)
    assert not verify_inclusion(5, 5, hs[2], good, root(hs))
    assert not verify_inclusion(-1, 5, hs[2], good, root(hs))
    assert not verify_inclusion(0, 0, hs[0], [], EMPTY_ROOT)
    # malformed arguments are a plain False, never an exception
    assert not verify_inclusion(2, 5, hs[2], [*good[:-1], b"short"], root(hs))
    assert not verify_inclusion(2, 5, hs[2][:31], good, root(hs))
    assert not verify_inclusion(2, 5, hs[2], b"".join(good), root(hs))  # type: ignore[arg-type]
    assert not verify_inclusion(True, 5, hs[2], good, root(hs))
    assert not verify_inclusion(2, 5, hs[2], [None], root(hs))  # type: ignore[list-item]


# ---- consistency proofs ------------------------------------------------------------------------------


def test_consistency_proofs_for_every_pair_up_to_64() -> None:
    for n in range(0, 65):
        d = data(n)
        hs = hashes(d)
        new_root = root(hs)
        for m in range(0, n + 1):
            old_root = root(hs[:m])
            proof = consistency_proof(m, hs)
            if 0 < m < n:
                assert proof == subproof(m, d, True)
            else:
                assert proof == []
            assert verify_consistency(m, n, old_root, new_root, proof), (m, n)
            assert not verify_consistency(m, n, leaf_hash(b"x"), new_root, proof)
            if m > 0 or n == 0:  # from the empty tree there is nothing to prove about the new root
                assert not verify_consistency(m, n, old_root, leaf_hash(b"x"), proof)
            for i in range(len(proof)):
                assert not verify_consistency(m, n, old_root, new_root, _flip(proof, i))
            if proof:
                assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
                assert not verify_consistency(m, n, old_root, new_root, proof[1:])
            assert not verify_consistency(m, n, old_root, new_root, [*proof, leaf_hash(b"x")])
            assert not verify_consistency(n + 1, n, new_root, new_root, proof)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=65, max_value=3000), pick=st.integers(min_value=1), salt=st.binary(max_size=4))
def test_consistency_proofs_in_larger_trees(n: int, pick: int, salt: bytes) -> None:
    d = data(n, salt)
    hs = hashes(d)
    m = 1 + pick % (n - 1)
    proof = consistency_proof(m, hs)
    assert proof == subproof(m, d, True)
    assert verify_consistency(m, n, mth(d[:m]), mth(d), proof)
    assert not verify_consistency(m, n, mth(d[:m]), mth(d), _flip(proof, pick % len(proof)))
    # a fork: the same old size, one old leaf changed
    forked = [*d[: m - 1], b"forked", *d[m:]]
    assert not verify_consistency(m, n, mth(d[:m]), mth(forked), proof)
    assert not verify_consistency(m, n, mth(forked[:m]), mth(d), proof)


def test_consistency_of_the_empty_tree_and_equal_sizes() -> None:
    hs = hashes(data(7))
    assert verify_consistency(0, 7, EMPTY_ROOT, root(hs), [])
    assert not verify_consistency(0, 7, root(hs), root(hs), [])
    assert not verify_consistency(0, 7, EMPTY_ROOT, root(hs), [hs[0]])
    assert verify_consistency(7, 7, root(hs), root(hs), [])
    assert not verify_consistency(7, 7, root(hs), root(hs[:6]), [])
    assert not verify_consistency(7, 7, root(hs), root(hs), [hs[0]])
    with pytest.raises(ValueError):
        consistency_proof(8, hs)
    with pytest.raises(ValueError):
        consistency_proof(-1, hs)
    assert not verify_consistency(-1, 7, EMPTY_ROOT, root(hs), [])
    assert not verify_consistency(3, 7, root(hs[:3]), root(hs), "proof")  # type: ignore[arg-type]
