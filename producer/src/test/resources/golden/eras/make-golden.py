#!/usr/bin/env python3
"""Writes the format 2 golden eras.json from the layout in ErasFile's class comment, independently of the Java code.

Run from this folder: python3 make-golden.py  (writes v2-eras.json)
"""


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


volume, node, open_era, closed = "vol-golden", "site-a", 1733100000007, [1733100000005, 1733100000006]
canonical = "%s\n%s\n%d\n%s" % (volume, node, open_era, ",".join(str(e) for e in closed))
text = ('{"magic":"blockrep-eras","format":2,"volume":"%s","node":"%s","openEra":%d,"closedEras":[%s],"crc32c":"%08x"}'
        % (volume, node, open_era, ",".join(str(e) for e in closed), crc32c(canonical.encode())))
with open("v2-eras.json", "w") as f:
    f.write(text)
