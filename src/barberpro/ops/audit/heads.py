"""Signed tree heads and the published leaf log, kept in a directory outside the database.

The directory is the anchor an attacker with database access cannot rewrite: heads are
signed with Ed25519 (the private key comes from configuration), and `leaves.log` lists
every published leaf as `seq<TAB>entry id<TAB>leaf hash` so that verification can name
the first entry that differs.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HEAD_CONTEXT = b"barberpro-audit-tree-head-v1\x00"


def load_private_key(encoded: str) -> Ed25519PrivateKey:
    """A base64 32-byte Ed25519 seed, as `barberpro audit keygen` prints it."""
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded))


def load_public_key(encoded: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded))


def public_key_text(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: str  # hex
    timestamp: str  # ISO 8601, UTC
    last_seq: int  # audit_log.seq of the last leaf, 0 for an empty tree

    def signed_bytes(self) -> bytes:
        body = json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()
        return HEAD_CONTEXT + body


@dataclass(frozen=True)
class SignedTreeHead:
    head: TreeHead
    signature: str  # base64

    def verify(self, key: Ed25519PublicKey) -> bool:
        try:
            key.verify(base64.b64decode(self.signature), self.head.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def sign(cls, head: TreeHead, key: Ed25519PrivateKey) -> SignedTreeHead:
        return cls(head, base64.b64encode(key.sign(head.signed_bytes())).decode())


@dataclass(frozen=True)
class PublishedLeaf:
    seq: int
    entry_id: str
    leaf: bytes


class HeadStore:
    """`heads/<size>.json` (one per publication) and the append-only `leaves.log`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.heads_dir = directory / "heads"
        self.leaf_log = directory / "leaves.log"

    def heads(self) -> list[SignedTreeHead]:
        if not self.heads_dir.is_dir():
            return []
        found = []
        for path in sorted(self.heads_dir.glob("*.json")):
            raw = json.loads(path.read_text())
            found.append(SignedTreeHead(TreeHead(**raw["head"]), raw["signature"]))
        return sorted(found, key=lambda s: s.head.tree_size)

    def leaves(self) -> list[PublishedLeaf]:
        if not self.leaf_log.exists():
            return []
        out = []
        for line in self.leaf_log.read_text().splitlines():
            seq, entry_id, digest = line.split("\t")
            out.append(PublishedLeaf(int(seq), entry_id, bytes.fromhex(digest)))
        return out

    def append_leaves(self, leaves: list[PublishedLeaf]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.leaf_log.open("a") as handle:
            handle.writelines(f"{p.seq}\t{p.entry_id}\t{p.leaf.hex()}\n" for p in leaves)
            handle.flush()
            os.fsync(handle.fileno())

    def publish(self, signed: SignedTreeHead) -> Path:
        self.heads_dir.mkdir(parents=True, exist_ok=True)
        path = self.heads_dir / f"{signed.head.tree_size:012d}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"head": asdict(signed.head), "signature": signed.signature}, indent=1))
        os.replace(tmp, path)  # a reader sees the old head or the new one, never half
        return path
