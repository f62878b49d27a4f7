package io.blockrep.common.volume;

import io.blockrep.common.FatalException;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.io.FileIo;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Positional byte I/O on a volume's backing store: a sparse file or a raw block device.
 *
 * <p>Thread-safe: reads and writes at different offsets may run concurrently (positional
 * {@link FileChannel} I/O never moves a shared position). Every call checks its range against the
 * volume size first and throws {@link InvalidInputException} without touching the store when the
 * range is outside it. Writes are durable only after {@link #flush()}.
 */
public final class Volume implements Closeable {
    private static final int ZERO_CHUNK = 1 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(ZERO_CHUNK).asReadOnlyBuffer();

    private final VolumeMetadata meta;
    private final FileChannel channel;
    private final boolean readOnly;

    private Volume(VolumeMetadata meta, FileChannel channel, boolean readOnly) {
        this.meta = meta;
        this.channel = channel;
        this.readOnly = readOnly;
    }

    /** Opens the backing store of {@code meta}; it must already exist and be at least {@code meta.size()} bytes. */
    public static Volume open(VolumeMetadata meta, boolean readOnly) {
        Path path = meta.path();
        try {
            long actual = BackingStore.sizeOf(path);
            if (actual < meta.size()) {
                throw new FatalException("volume '" + meta.id() + "': " + path + " holds " + actual
                        + " bytes but the volume is " + meta.size() + " bytes");
            }
            FileChannel ch = readOnly
                    ? FileChannel.open(path, StandardOpenOption.READ)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            return new Volume(meta, ch, readOnly);
        } catch (IOException e) {
            throw new FatalException("volume '" + meta.id() + "': cannot open " + path + ": " + e.getMessage(), e);
        }
    }

    public VolumeMetadata metadata() {
        return meta;
    }

    public String id() {
        return meta.id();
    }

    public long size() {
        return meta.size();
    }

    public RegionGeometry geometry() {
        return meta.geometry();
    }

    public boolean readOnly() {
        return readOnly;
    }

    /** Reads {@code dst.remaining()} bytes at {@code offset}. */
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkRange(offset, dst.remaining());
        int start = dst.position();
        if (!FileIo.readFully(channel, dst, offset)) {
            throw new IOException("unexpected end of " + meta.path() + " at " + (offset + dst.position() - start));
        }
    }

    /** Writes all of {@code src} at {@code offset}. */
    public void write(long offset, ByteBuffer src) throws IOException {
        checkWritable();
        checkRange(offset, src.remaining());
        FileIo.writeFully(channel, src, offset);
    }

    /** Writes {@code length} zero bytes at {@code offset}. */
    public void writeZeroes(long offset, long length) throws IOException {
        checkWritable();
        checkRange(offset, length);
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            ByteBuffer chunk = ZEROES.duplicate();
            chunk.limit((int) Math.min(ZERO_CHUNK, end - pos));
            pos = FileIo.writeFully(channel, chunk, pos);
        }
    }

    /**
     * Discard hint for {@code [offset, offset+length)}. The range is checked, and the data is kept:
     * the NBD spec lets a server ignore TRIM, and keeping the bytes means a trimmed range never
     * differs between the two sites.
     */
    public void trim(long offset, long length) {
        checkWritable();
        checkRange(offset, length);
    }

    /** Makes every completed write durable. */
    public void flush() throws IOException {
        channel.force(false);
    }

    public void checkRange(long offset, long length) {
        if (!meta.geometry().contains(offset, length)) {
            throw new InvalidInputException("volume '" + meta.id() + "': range [" + offset + ", +" + length
                    + ") is outside the volume (size " + meta.size() + ")");
        }
    }

    private void checkWritable() {
        if (readOnly) {
            throw new InvalidInputException("volume '" + meta.id() + "' is read-only here");
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
