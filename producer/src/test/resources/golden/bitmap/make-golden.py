#!/usr/bin/env python3
"""Writes the version 2 golden bitmap from the layout in BitmapFile's class comment, independently of the Java code.

Run from this folder: python3 make-golden.py  (writes v2-dirty-1m-4k-era7.bitmap)
"""
import os
import struct
import sys

# The one CRC32C of the golden scripts: tools/golden/crc32c.py, found from this file's location.
sys.dont_write_bytecode = True  # no __pycache__ left in tools/golden
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 6, "tools", "golden"))
from crc32c import crc32c  # noqa: E402


def header(version, kind, volume_size, region_size, era, volume_id, node_id):
    h = bytearray(4096)
    h[0:8] = b"BRBITMAP"
    struct.pack_into("<HHIQI", h, 8, version, kind, 4096, volume_size, region_size)
    regions = (volume_size + region_size - 1) // region_size
    struct.pack_into("<QQ", h, 32, era, regions)
    for off, ident in ((48, volume_id), (112, node_id)):
        raw = ident.encode()
        h[off] = len(raw)
        h[off + 1:off + 1 + len(raw)] = raw
    struct.pack_into("<I", h, 4092, crc32c(h[:4092]))
    return bytes(h), regions


def bit_pages(regions, set_bits):
    words = [0] * ((regions + 63) // 64)
    for r in set_bits:
        words[r // 64] |= 1 << (r % 64)
    out = b""
    for first in range(0, len(words), 511):
        page = bytearray(4096)
        for i, w in enumerate(words[first:first + 511]):
            struct.pack_into("<Q", page, 8 * i, w)
        struct.pack_into("<I", page, 4092, crc32c(page[:4092]))
        out += bytes(page)
    return out


h, n = header(2, 1, 1 << 20, 4096, 7, "vol-golden", "site-a")
with open("v2-dirty-1m-4k-era7.bitmap", "wb") as f:
    f.write(h + bit_pages(n, [0, 1, 63, 64, 130, 255]))
