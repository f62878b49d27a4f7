#!/usr/bin/env python3
"""Writes volume-v4.json from volume-v3.json independently of the Java code: format 4, then the
crc32c field = CRC32C (Castagnoli, reflected 0x82F63B78) of the compact JSON of the document
without that field, in Jackson's pretty-printed layout (" : " separators, 2-space indent)."""
import json, collections

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF

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
