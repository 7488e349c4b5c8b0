"""Sealed backup objects: round trip, and every kind of damage is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barberpro.ops.recovery import sealing
from barberpro.ops.recovery.sealing import SealError, load_key, new_key, seal, unseal

KEY = load_key(new_key())


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealing, "CHUNK", 64)  # many chunks from small inputs


@settings(max_examples=60)
@given(st.binary(max_size=700))
def test_round_trip(data: bytes) -> None:
    assert unseal(seal(data, KEY, "obj"), KEY, "obj") == data


@settings(max_examples=60)
@given(st.binary(min_size=1, max_size=700), st.data())
def test_any_flipped_bit_is_refused(data: bytes, draw: st.DataObject) -> None:
    blob = bytearray(seal(data, KEY, "obj"))
    position = draw.draw(st.integers(len(sealing.MAGIC), len(blob) - 1))
    blob[position] ^= 1 << draw.draw(st.integers(0, 7))
    with pytest.raises(SealError):
        unseal(bytes(blob), KEY, "obj")


def test_truncation_at_a_chunk_boundary_is_refused() -> None:
    blob = seal(bytes(range(200)), KEY, "obj")
    first_chunk_end = len(sealing.MAGIC) + 12 + 4 + 64 + 16
    with pytest.raises(SealError, match="fails authentication"):
        unseal(blob[:first_chunk_end], KEY, "obj")


def test_another_name_or_key_is_refused() -> None:
    blob = seal(b"reserva", KEY, "generations/a/segments/000000000001")
    with pytest.raises(SealError):
        unseal(blob, KEY, "generations/a/segments/000000000002")
    with pytest.raises(SealError):
        unseal(blob, load_key(new_key()), "generations/a/segments/000000000001")
