package io.blockrep.common.link;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The checksum a data set's COMMIT carries and its journal's commit record stores: CRC32C over, for
 * every extent in order, its offset (i64 big-endian), its length (i32 big-endian) and its data.
 * Not thread-safe.
 */
public final class DataSetCrc {
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer header = ByteBuffer.allocate(12);

    /** Adds one extent; {@code data} is read from its position to its limit and left untouched. */
    public DataSetCrc add(long offset, ByteBuffer data) {
        return addHeader(offset, data.remaining()).addData(data);
    }

    /** Streaming form of {@link #add}: the extent's header, then its data in one or more {@link #addData} calls. */
    public DataSetCrc addHeader(long offset, int length) {
        header.clear();
        header.putLong(offset).putInt(length).flip();
        crc.update(header);
        return this;
    }

    /** Adds a chunk of the current extent's data; {@code chunk} is left untouched. */
    public DataSetCrc addData(ByteBuffer chunk) {
        crc.update(chunk.duplicate());
        return this;
    }

    public int value() {
        return (int) crc.getValue();
    }
}
