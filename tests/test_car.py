"""CAR v1 streams: round trips, and every way a stream can be malformed."""

from __future__ import annotations

import io

import libipld
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wikipeer.formats.car import CarError, CarReader, encode_varint, header_bytes, section_bytes, write_car
from wikipeer.model.objects import Page, build_page, build_text


def car(blocks, roots=()) -> bytes:
    out = io.BytesIO()
    write_car(out, blocks, roots)
    return out.getvalue()


@given(st.lists(st.text(max_size=200), max_size=20))
def test_blocks_come_back_as_written(texts):
    blocks = [build_text(t) for t in texts]
    reader = CarReader(io.BytesIO(car(blocks, [b.cid for b in blocks[:1]])))
    assert reader.header.roots == [b.cid for b in blocks[:1]]
    assert list(reader) == blocks


def test_a_car_is_readable_by_libipld():
    blocks = [build_page(Page("w", 0, "One")), build_page(Page("w", 0, "Two"))]
    header, parsed = libipld.decode_car(car(blocks, [blocks[0].cid]))
    assert header["version"] == 1 and len(parsed) == 2


def test_a_cut_stream_names_the_offset():
    first, second = build_text("hello"), build_text("world")
    data = car([first, second])
    boundaries = {len(header_bytes()), len(header_bytes()) + len(section_bytes(first)), len(data)}
    for cut in set(range(1, len(data))) - boundaries:
        with pytest.raises(CarError, match=r"byte \d+|empty"):
            reader = CarReader(io.BytesIO(data[:cut]))
            list(reader)
    with pytest.raises(CarError, match="empty"):
        CarReader(io.BytesIO(b""))


@pytest.mark.parametrize("header, fragment", [
    (encode_varint(10**9), "declares"),
    (encode_varint(3) + b"\xff\xff\xff", "not DAG-CBOR"),
    (encode_varint(len(libipld.encode_dag_cbor({"version": 2, "roots": []}))) +
     libipld.encode_dag_cbor({"version": 2, "roots": []}), "CAR v1"),
    (b"\xff" * 12, "does not end"),
])
def test_bad_headers_are_refused(header, fragment):
    with pytest.raises(CarError, match=fragment):
        CarReader(io.BytesIO(header))


def test_a_huge_declared_section_is_refused_before_reading():
    stream = io.BytesIO(header_bytes() + encode_varint(10 * 1024**3) + b"x" * 100)
    with pytest.raises(CarError, match="declares 10737418240 bytes"):
        list(CarReader(stream))
    assert stream.tell() < 200  # nothing near the declared length was read


def test_a_section_without_a_cid_is_refused():
    block = build_text("hello")
    bad = section_bytes(block).replace(block.cid[:4], b"\x00\x00\x00\x00", 1)
    with pytest.raises(CarError, match="CIDv1"):
        list(CarReader(io.BytesIO(header_bytes() + bad)))
