"""Content identifiers: CIDv1 with a sha2-256 multihash.

A CID's bytes are ``0x01 <codec> 0x12 0x20`` followed by the sha256 digest of
the block. Only two codecs occur: DAG-CBOR for structured objects and raw for
text blobs. The string form is multibase base32 (``b...``), as IPFS prints it.
"""

from __future__ import annotations

import hashlib

import libipld

from wikipeer.errors import InvalidObject

DAG_CBOR = 0x71
RAW = 0x55
SHA2_256 = 0x12
CID_LEN = 36
_PREFIX = {DAG_CBOR: bytes([0x01, DAG_CBOR, SHA2_256, 0x20]), RAW: bytes([0x01, RAW, SHA2_256, 0x20])}


def compute_cid(data: bytes, codec: int) -> bytes:
    """Return the CID bytes naming ``data`` encoded with ``codec``."""
    return _PREFIX[codec] + hashlib.sha256(data).digest()


def cid_codec(cid: bytes) -> int:
    """Return the codec of a CID we accept, or raise InvalidObject."""
    if len(cid) != CID_LEN or cid[0] != 0x01 or cid[2:4] != b"\x12\x20" or cid[1] not in _PREFIX:
        raise InvalidObject(f"not a CIDv1 sha2-256 of a known codec: {cid[:8].hex()}...")
    return cid[1]


def cid_to_str(cid: bytes) -> str:
    """The base32 string form of a CID (``bafy...`` or ``bafk...``)."""
    return libipld.encode_cid(cid)


def cid_from_str(text: str) -> bytes:
    """Parse a CID string; raise InvalidObject with the text when it is not one."""
    try:
        parts = libipld.decode_cid(text.strip())
    except Exception as exc:  # libipld raises plain ValueErrors of several kinds
        raise InvalidObject(f"not a CID: {text!r}") from exc
    mh = parts["hash"]
    if parts["version"] != 1 or parts["codec"] not in _PREFIX or mh["code"] != SHA2_256 or mh["size"] != 32:
        raise InvalidObject(f"not a CIDv1 sha2-256 of a wiki object: {text!r}")
    return _PREFIX[parts["codec"]] + mh["digest"]
