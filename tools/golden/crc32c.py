"""CRC32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: the checksum of blockrep's
state formats, written independently of the Java code for the golden-file scripts.

A script imports it from its own location, e.g. from producer/src/test/resources/golden/bitmap:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[".."] * 6, "tools", "golden"))
    from crc32c import crc32c
"""


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


if __name__ == "__main__":
    # The check value of CRC-32C (RFC 3720, B.4).
    assert crc32c(b"123456789") == 0xE3069283
    print("crc32c ok")
