#!/usr/bin/env python3
"""Writes volume-v4.json from volume-v3.json independently of the Java code: format 4, then the
crc32c field = CRC32C (Castagnoli, reflected 0x82F63B78) of the compact JSON of the document
without that field, in Jackson's pretty-printed layout (" : " separators, 2-space indent)."""
import collections
import json
import os
import sys

# The one CRC32C of the golden scripts: tools/golden/crc32c.py, found from this file's location.
sys.dont_write_bytecode = True  # no __pycache__ left in tools/golden
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 5, "tools", "golden"))
from crc32c import crc32c  # noqa: E402

doc = json.load(open("volume-v3.json"), object_pairs_hook=collections.OrderedDict)
doc["format"] = 4
compact = json.dumps(doc, separators=(",", ":")).encode()
doc["crc32c"] = "%08x" % crc32c(compact)

def pretty(v, indent=0):
    pad = "  " * (indent + 1)
    if isinstance(v, dict):
        items = [pad + json.dumps(k) + " : " + pretty(x, indent + 1) for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(v, list):
        return "[ " + ", ".join(pretty(x, indent) for x in v) + " ]"
    return json.dumps(v)

open("volume-v4.json", "w").write(pretty(doc))
