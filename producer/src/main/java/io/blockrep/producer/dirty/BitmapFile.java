package io.blockrep.producer.dirty;

import io.blockrep.common.FatalException;
import io.blockrep.common.io.FileIo;
import io.blockrep.common.io.FileModes;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.VolumeId;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32C;
import org.roaringbitmap.RoaringBitmap;

/**
 * Owns the on-disk layout of a region bitmap: a dirty bitmap of one era, or a volume's activity
 * log. This class and its golden-file test are the only places that know the byte layout.
 *
 * <pre>
 * offset size  field (all integers little-endian)
 *      0    8  magic "BRBITMAP" (ASCII)
 *      8    2  format version (1)
 *     10    2  kind: 1 = DIRTY, 2 = ACTIVITY
 *     12    4  header size (4096)
 *     16    8  volume size in bytes
 *     24    4  region size in bytes
 *     28    4  reserved, 0
 *     32    8  era (0 for an activity log)
 *     40    8  region count = ceil(volume size / region size)
 *     48    1  volume id length n, then n UTF-8 bytes, zero-padded to offset 112
 *    112    1  node id length m, then m UTF-8 bytes, zero-padded to offset 176
 *    176 3916  zero
 *   4092    4  CRC32C of bytes [0, 4092)
 *   4096    -  bits: region r is bit (r mod 64) of the little-endian 64-bit word r / 64
 *              (LSB first); words fill whole 4 KiB pages, bits past the region count are 0
 * </pre>
 *
 * The file length is always {@code 4096 + 4096 * ceil(ceil(regionCount / 64) * 8 / 4096)}, so
 * every bit page is 4 KiB aligned and rewritten whole. The bit pages carry no checksum: while a
 * bitmap only gains bits, a torn page write leaves a mix of old and new sectors, which is a
 * superset of what was durable before, never a loss. A cleared bit (activity log) that is torn
 * back to 1 only causes an extra copy.
 *
 * <p>Not thread-safe: {@link DurableBitSet} serialises access. Positional page writes
 * ({@link #writePages}) may run outside that lock on a snapshot taken under it.
 */
public final class BitmapFile implements Closeable {
    public static final int PAGE_SIZE = 4096;
    public static final int HEADER_SIZE = PAGE_SIZE;
    public static final int FORMAT_VERSION = 1;
    static final byte[] MAGIC = "BRBITMAP".getBytes(StandardCharsets.US_ASCII);
    static final int OFF_VERSION = 8;
    static final int OFF_KIND = 10;
    static final int OFF_HEADER_SIZE = 12;
    static final int OFF_VOLUME_SIZE = 16;
    static final int OFF_REGION_SIZE = 24;
    static final int OFF_ERA = 32;
    static final int OFF_REGION_COUNT = 40;
    static final int OFF_VOLUME_ID = 48;
    static final int OFF_NODE_ID = 112;
    static final int ID_FIELD_SIZE = 64;
    static final int OFF_CRC = HEADER_SIZE - 4;
    /** Region numbers are stored in RoaringBitmaps as unsigned 32-bit ints. */
    public static final long MAX_REGION_COUNT = 1L << 32;
    private static final int WORDS_PER_PAGE = PAGE_SIZE / Long.BYTES;

    /** What a bitmap records. */
    public enum Kind {
        DIRTY(1), ACTIVITY(2);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        static Kind of(int code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            return null;
        }
    }

    /** The identity a bitmap file carries in its header. */
    public record Header(Kind kind, String volumeId, String nodeId, RegionGeometry geometry, long era) {
        public Header {
            Objects.requireNonNull(kind, "kind");
            VolumeId.require(volumeId);
            Objects.requireNonNull(nodeId, "nodeId");
            Objects.requireNonNull(geometry, "geometry");
            int nodeBytes = nodeId.getBytes(StandardCharsets.UTF_8).length;
            if (nodeBytes == 0 || nodeBytes >= ID_FIELD_SIZE) {
                throw new IllegalArgumentException("node id must be 1.." + (ID_FIELD_SIZE - 1) + " UTF-8 bytes: '" + nodeId + "'");
            }
            if (era < 0) {
                throw new IllegalArgumentException("era must not be negative: " + era);
            }
            if (geometry.regionCount() > MAX_REGION_COUNT) {
                throw new IllegalArgumentException("volume has " + geometry.regionCount() + " regions; at most "
                        + MAX_REGION_COUNT + " are supported, use a larger region size");
            }
        }

        public long regionCount() {
            return geometry.regionCount();
        }
    }

    /** Copies of changed bit pages, taken under the owner's lock and written outside it. */
    record PageImage(int[] pages, ByteBuffer[] contents) {
        int count() {
            return pages.length;
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final Header header;
    private final long[] words;
    private final BitSet changedPages = new BitSet();

    private BitmapFile(Path path, FileChannel channel, Header header, long[] words) {
        this.path = path;
        this.channel = channel;
        this.header = header;
        this.words = words;
    }

    /** Creates a new, empty bitmap file durably (file and directory entry); fails if it exists. */
    public static BitmapFile create(Path file, Header header) {
        long[] words = new long[wordCount(header.regionCount())];
        FileChannel ch = null;
        try {
            ch = FileModes.openPrivate(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            ByteBuffer image = ByteBuffer.allocate((int) Math.min(fileSize(header.regionCount()), 1 << 20));
            writeFully(ch, encodeHeader(header), 0);
            long end = fileSize(header.regionCount());
            for (long pos = HEADER_SIZE; pos < end; pos += image.capacity()) {
                image.clear().limit((int) Math.min(image.capacity(), end - pos));
                writeFully(ch, image, pos);
            }
            ch.force(true);
            forceDirectory(file);
            return new BitmapFile(file, ch, header, words);
        } catch (FileAlreadyExistsException e) {
            throw new FatalException("cannot create bitmap " + file + ": it already exists", e);
        } catch (IOException e) {
            closeQuietly(ch);
            if (ch != null) {
                // A half-made file (the disk filled up, say) must not block a retry with "it already exists".
                try {
                    Files.deleteIfExists(file);
                } catch (IOException again) {
                    e.addSuppressed(again);
                }
            }
            throw new FatalException("cannot create bitmap " + file + ": " + e, e);
        }
    }

    /**
     * Opens an existing bitmap, validating its header and checking it belongs to {@code expected}
     * (kind, volume, node, geometry and era).
     */
    public static BitmapFile open(Path file, Header expected) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            Header found = readHeader(file, ch);
            List<String> mismatches = mismatches(found, expected);
            if (!mismatches.isEmpty()) {
                throw new FatalException("bitmap " + file + " belongs elsewhere: " + String.join("; ", mismatches));
            }
            long[] words = readWords(file, ch, found.regionCount());
            return new BitmapFile(file, ch, found, words);
        } catch (NoSuchFileException e) {
            throw new FatalException("bitmap " + file + " does not exist", e);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new FatalException("cannot read bitmap " + file + ": " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** Reads and validates the header of a bitmap file without opening it for writing. */
    public static Header readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch);
        } catch (IOException e) {
            throw new FatalException("cannot read bitmap " + file + ": " + e, e);
        }
    }

    public Path path() {
        return path;
    }

    public Header header() {
        return header;
    }

    public long regionCount() {
        return header.regionCount();
    }

    public boolean get(long region) {
        checkRegion(region);
        return (words[(int) (region >>> 6)] & (1L << region)) != 0;
    }

    /** Sets a bit in memory; returns true when it was clear. Durable after {@link #flush()}. */
    public boolean set(long region) {
        checkRegion(region);
        int w = (int) (region >>> 6);
        long bit = 1L << region;
        if ((words[w] & bit) != 0) {
            return false;
        }
        words[w] |= bit;
        changedPages.set(w / WORDS_PER_PAGE);
        return true;
    }

    /** Clears a bit in memory; returns true when it was set. */
    public boolean clear(long region) {
        checkRegion(region);
        int w = (int) (region >>> 6);
        long bit = 1L << region;
        if ((words[w] & bit) == 0) {
            return false;
        }
        words[w] &= ~bit;
        changedPages.set(w / WORDS_PER_PAGE);
        return true;
    }

    public long cardinality() {
        long n = 0;
        for (long w : words) {
            n += Long.bitCount(w);
        }
        return n;
    }

    /** A copy of the bit words in memory. */
    long[] words() {
        return words.clone();
    }

    /** The set bits (in memory, durable or not) as region numbers. */
    public RoaringBitmap toRoaring() {
        return toRoaring(words);
    }

    static RoaringBitmap toRoaring(long[] words) {
        RoaringBitmap bits = new RoaringBitmap();
        for (int w = 0; w < words.length; w++) {
            long v = words[w];
            while (v != 0) {
                bits.add((int) (((long) w << 6) + Long.numberOfTrailingZeros(v)));
                v &= v - 1;
            }
        }
        return bits;
    }

    /** Writes the changed pages and forces them to disk; returns the number of pages written. */
    public int flush() throws IOException {
        PageImage image = snapshotChangedPages();
        writePages(image);
        force();
        return image.count();
    }

    /** Copies the pages changed since the last snapshot and forgets they changed. */
    PageImage snapshotChangedPages() {
        int n = changedPages.cardinality();
        int[] pages = new int[n];
        ByteBuffer[] contents = new ByteBuffer[n];
        int i = 0;
        for (int p = changedPages.nextSetBit(0); p >= 0; p = changedPages.nextSetBit(p + 1)) {
            ByteBuffer page = ByteBuffer.allocate(PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            int end = Math.min(words.length, (p + 1) * WORDS_PER_PAGE);
            for (int w = p * WORDS_PER_PAGE; w < end; w++) {
                page.putLong(words[w]);
            }
            pages[i] = p;
            contents[i++] = page.clear();
        }
        changedPages.clear();
        return new PageImage(pages, contents);
    }

    void writePages(PageImage image) throws IOException {
        for (int i = 0; i < image.count(); i++) {
            writeFully(channel, image.contents()[i].duplicate(), HEADER_SIZE + (long) image.pages()[i] * PAGE_SIZE);
        }
    }

    void force() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    /** Byte length of a bitmap file for {@code regionCount} regions. */
    public static long fileSize(long regionCount) {
        long bitBytes = (long) wordCount(regionCount) * Long.BYTES;
        return HEADER_SIZE + (bitBytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
    }

    static int wordCount(long regionCount) {
        return (int) ((regionCount + 63) >>> 6);
    }

    static ByteBuffer encodeHeader(Header h) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC);
        b.putShort(OFF_VERSION, (short) FORMAT_VERSION);
        b.putShort(OFF_KIND, (short) h.kind().code);
        b.putInt(OFF_HEADER_SIZE, HEADER_SIZE);
        b.putLong(OFF_VOLUME_SIZE, h.geometry().size());
        b.putInt(OFF_REGION_SIZE, h.geometry().regionSize());
        b.putLong(OFF_ERA, h.era());
        b.putLong(OFF_REGION_COUNT, h.regionCount());
        putId(b, OFF_VOLUME_ID, h.volumeId());
        putId(b, OFF_NODE_ID, h.nodeId());
        b.putInt(OFF_CRC, crc(b));
        return b.clear();
    }

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < HEADER_SIZE) {
            throw new FatalException("bitmap " + file + " is truncated: " + size + " bytes, the header alone needs " + HEADER_SIZE);
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, 0);
        byte[] magic = new byte[MAGIC.length];
        b.get(0, magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new FatalException("bitmap " + file + " has wrong magic " + hex(magic) + " (expected " + hex(MAGIC) + "): not a blockrep bitmap");
        }
        int version = Short.toUnsignedInt(b.getShort(OFF_VERSION));
        if (version != FORMAT_VERSION) {
            throw new FatalException("bitmap " + file + " has format version " + version + "; this build reads version " + FORMAT_VERSION);
        }
        int stored = b.getInt(OFF_CRC);
        int actual = crc(b);
        if (stored != actual) {
            throw new FatalException(String.format("bitmap %s header checksum mismatch: stored CRC32C %08x, computed %08x (corrupt header)",
                    file, stored, actual));
        }
        List<String> problems = new ArrayList<>();
        Kind kind = Kind.of(Short.toUnsignedInt(b.getShort(OFF_KIND)));
        if (kind == null) {
            problems.add("unknown kind " + b.getShort(OFF_KIND));
        }
        if (b.getInt(OFF_HEADER_SIZE) != HEADER_SIZE) {
            problems.add("header size " + b.getInt(OFF_HEADER_SIZE) + " (expected " + HEADER_SIZE + ")");
        }
        long volumeSize = b.getLong(OFF_VOLUME_SIZE);
        int regionSize = b.getInt(OFF_REGION_SIZE);
        problems.addAll(RegionGeometry.problems(volumeSize, regionSize));
        String volumeId = getId(b, OFF_VOLUME_ID, problems, "volume id");
        String nodeId = getId(b, OFF_NODE_ID, problems, "node id");
        if (!problems.isEmpty()) {
            throw new FatalException("bitmap " + file + " has an invalid header: " + String.join("; ", problems));
        }
        RegionGeometry geometry = new RegionGeometry(volumeSize, regionSize);
        long regionCount = b.getLong(OFF_REGION_COUNT);
        if (regionCount != geometry.regionCount()) {
            throw new FatalException("bitmap " + file + " records " + regionCount + " regions but its geometry has "
                    + geometry.regionCount());
        }
        Header header;
        try {
            header = new Header(kind, volumeId, nodeId, geometry, b.getLong(OFF_ERA));
        } catch (RuntimeException e) {
            throw new FatalException("bitmap " + file + " has an invalid header: " + e.getMessage(), e);
        }
        long expectedSize = fileSize(regionCount);
        if (size != expectedSize) {
            throw new FatalException("bitmap " + file + " is " + (size < expectedSize ? "truncated" : "too long") + ": "
                    + size + " bytes, expected " + expectedSize + " for " + regionCount + " regions");
        }
        return header;
    }

    private static long[] readWords(Path file, FileChannel ch, long regionCount) throws IOException {
        long[] words = new long[wordCount(regionCount)];
        ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        long pos = HEADER_SIZE;
        int w = 0;
        while (w < words.length) {
            buf.clear().limit((int) Math.min(buf.capacity(), (long) (words.length - w) * Long.BYTES));
            readFully(ch, buf, pos);
            pos += buf.limit();
            buf.flip();
            while (buf.hasRemaining()) {
                words[w++] = buf.getLong();
            }
        }
        int tail = (int) (regionCount & 63);
        if (tail != 0 && (words[words.length - 1] >>> tail) != 0) {
            throw new FatalException("bitmap " + file + " is corrupt: bits are set past the last region " + (regionCount - 1));
        }
        return words;
    }

    private static List<String> mismatches(Header found, Header expected) {
        List<String> m = new ArrayList<>();
        if (found.kind() != expected.kind()) {
            m.add("kind " + found.kind() + ", expected " + expected.kind());
        }
        if (!found.volumeId().equals(expected.volumeId())) {
            m.add("volume '" + found.volumeId() + "', expected '" + expected.volumeId() + "'");
        }
        if (!found.nodeId().equals(expected.nodeId())) {
            m.add("node '" + found.nodeId() + "', expected '" + expected.nodeId() + "'");
        }
        if (!found.geometry().equals(expected.geometry())) {
            m.add("geometry " + found.geometry() + ", expected " + expected.geometry());
        }
        if (found.era() != expected.era()) {
            m.add("era " + found.era() + ", expected " + expected.era());
        }
        return m;
    }

    private static void putId(ByteBuffer b, int offset, String id) {
        byte[] bytes = id.getBytes(StandardCharsets.UTF_8);
        b.put(offset, (byte) bytes.length);
        b.put(offset + 1, bytes);
    }

    private static String getId(ByteBuffer b, int offset, List<String> problems, String what) {
        int len = Byte.toUnsignedInt(b.get(offset));
        if (len == 0 || len >= ID_FIELD_SIZE) {
            problems.add(what + " length " + len);
            return "";
        }
        byte[] bytes = new byte[len];
        b.get(offset + 1, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static int crc(ByteBuffer header) {
        CRC32C crc = new CRC32C();
        crc.update(header.duplicate().clear().limit(OFF_CRC));
        return (int) crc.getValue();
    }

    private void checkRegion(long region) {
        if (region < 0 || region >= header.regionCount()) {
            throw new IndexOutOfBoundsException("region " + region + " outside 0.." + (header.regionCount() - 1) + " of " + path);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        FileIo.writeFully(ch, buf, position);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        int start = buf.position();
        if (!FileIo.readFully(ch, buf, position)) {
            throw new IOException("unexpected end of file at byte " + (position + buf.position() - start));
        }
    }

    static void forceDirectory(Path file) {
        FileIo.forceDirectoryIfSupported(file.toAbsolutePath().getParent());
    }

    private static void closeQuietly(FileChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing after a failure; the original error is what matters
            }
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte x : bytes) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }
}
