"""RFC 9162 Merkle tree: roots against the recursive definition, proofs verify and reject."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.ops.audit import merkle


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH written exactly as RFC 6962 2.1 defines it (recursive)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return merkle.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def make_leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]


def test_known_small_trees() -> None:
    a, b, c = make_leaves(3)
    assert merkle.root([a]) == a
    assert merkle.root([a, b]) == hashlib.sha256(b"\x01" + a + b).digest()
    assert merkle.root([a, b, c]) == merkle.node_hash(merkle.node_hash(a, b), c)
    assert merkle.root([]) == hashlib.sha256(b"").digest()


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    a, b = make_leaves(2)
    assert merkle.leaf_hash(a + b) != merkle.node_hash(a, b)


@given(st.integers(min_value=1, max_value=70))
def test_root_matches_recursive_definition(n: int) -> None:
    leaves = make_leaves(n)
    assert merkle.root(leaves) == reference_root(leaves)


@settings(max_examples=150)
@given(st.integers(min_value=1, max_value=60), st.data())
def test_inclusion_proofs_verify_and_reject(n: int, data: st.DataObject) -> None:
    leaves = make_leaves(n)
    root = merkle.root(leaves)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = merkle.inclusion_proof(index, leaves)
    assert merkle.verify_inclusion(index, n, leaves[index], proof, root)
    forged = merkle.leaf_hash(b"forged")
    assert not merkle.verify_inclusion(index, n, forged, proof, root)
    if n > 1:
        assert not merkle.verify_inclusion((index + 1) % n, n, leaves[index], proof, root)
    if proof:
        broken = [*proof[:-1], merkle.leaf_hash(b"x")]
        assert not merkle.verify_inclusion(index, n, leaves[index], broken, root)


@settings(max_examples=150)
@given(st.integers(min_value=1, max_value=60), st.data())
def test_consistency_proofs_verify_and_reject(n: int, data: st.DataObject) -> None:
    leaves = make_leaves(n)
    m = data.draw(st.integers(min_value=1, max_value=n))
    proof = merkle.consistency_proof(m, leaves)
    old_root, new_root = merkle.root(leaves[:m]), merkle.root(leaves)
    assert merkle.verify_consistency(m, n, old_root, new_root, proof)
    if m < n:
        # A history rewritten inside the old range cannot be proven consistent.
        rewritten = list(leaves)
        rewritten[data.draw(st.integers(min_value=0, max_value=m - 1))] = merkle.leaf_hash(b"rewritten")
        assert not merkle.verify_consistency(
            m, n, old_root, merkle.root(rewritten), merkle.consistency_proof(m, rewritten)
        )
        assert not merkle.verify_consistency(m, n, merkle.leaf_hash(b"other"), new_root, proof)
