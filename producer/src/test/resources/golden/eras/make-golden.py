#!/usr/bin/env python3
"""Writes the format 2 golden eras.json from the layout in ErasFile's class comment, independently of the Java code.

Run from this folder: python3 make-golden.py  (writes v2-eras.json)
"""
import os
import sys

# The one CRC32C of the golden scripts: tools/golden/crc32c.py, found from this file's location.
sys.dont_write_bytecode = True  # no __pycache__ left in tools/golden
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 6, "tools", "golden"))
from crc32c import crc32c  # noqa: E402


volume, node, open_era, closed = "vol-golden", "site-a", 1733100000007, [1733100000005, 1733100000006]
canonical = "%s\n%s\n%d\n%s" % (volume, node, open_era, ",".join(str(e) for e in closed))
text = ('{"magic":"blockrep-eras","format":2,"volume":"%s","node":"%s","openEra":%d,"closedEras":[%s],"crc32c":"%08x"}'
        % (volume, node, open_era, ",".join(str(e) for e in closed), crc32c(canonical.encode())))
with open("v2-eras.json", "w") as f:
    f.write(text)
