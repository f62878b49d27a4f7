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
import java.nio.file.StandardCopyOption;
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
 * log. This class and its golden-file tests are the only places that know the byte layout.
 *
 * <pre>
 * offset size  field (all integers little-endian)
 *      0    8  magic "BRBITMAP" (ASCII)
 *      8    2  format version (2; version 1 files are still read, see below)
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
 *   4096    -  bit pages of 4096 bytes each. Region r is bit (r mod 64) of the little-endian 64-bit
 *              word w = r / 64 (LSB first); bit page p holds words [511 p, 511 p + 511), i.e.
 *              regions [32704 p, 32704 p + 32704):
 *                page offset 0     4088  511 words; words and bits past the region count are 0
 *                page offset 4088     4  zero
 *                page offset 4092     4  CRC32C of page bytes [0, 4092)
 * </pre>
 *
 * The file length is always {@code 4096 + 4096 * ceil(ceil(regionCount / 64) / 511)}; every bit page
 * is 4 KiB aligned and rewritten whole, with its checksum. A page whose checksum fails at open
 * (flipped bits, or a write torn by a crash: a mix of old and new sectors) cannot be trusted bit by
 * bit, so {@link #open} sets every region the page covers, writes the page back durably with a good
 * checksum, and reports it in {@link #damagedPages()}: a damaged page only ever adds bits (a
 * conservative resync of its regions), it never loses one. Problems with the file as a whole
 * (missing, truncated, bad header, another volume's file) throw {@link CorruptBitmapException}; the
 * caller decides how to be conservative.
 *
 * <p>Version 1 had the same header and 512 words per bit page with no page checksum. {@link #open}
 * reads it and upgrades the file in place atomically (write a version 2 copy, fsync, rename over,
 * fsync the directory): a crash leaves the old or the new file, both readable.
 *
 * <p>Not thread-safe: {@link DurableBitSet} serialises access. Positional page writes
 * ({@link #writePages}) may run outside that lock on a snapshot taken under it.
 */
public final class BitmapFile implements Closeable {
    public static final int PAGE_SIZE = 4096;
    public static final int HEADER_SIZE = PAGE_SIZE;
    public static final int FORMAT_VERSION = 2;
    /** The first format, without page checksums; read and upgraded at open. */
    static final int FORMAT_VERSION_1 = 1;
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
    /** Bit words per page: 511 words (4088 bytes), 4 zero bytes, the page's CRC32C in its last 4. */
    static final int WORDS_PER_PAGE = 511;
    static final int OFF_PAGE_CRC = PAGE_SIZE - 4;
    /** Regions per bit page. */
    public static final int REGIONS_PER_PAGE = WORDS_PER_PAGE * Long.SIZE;
    private static final int V1_WORDS_PER_PAGE = PAGE_SIZE / Long.BYTES;

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
    private final List<Integer> damagedPages;
    private final int upgradedFrom;

    private BitmapFile(Path path, FileChannel channel, Header header, long[] words, List<Integer> damagedPages, int upgradedFrom) {
        this.path = path;
        this.channel = channel;
        this.header = header;
        this.words = words;
        this.damagedPages = List.copyOf(damagedPages);
        this.upgradedFrom = upgradedFrom;
    }

    /** Creates a new, empty bitmap file durably (file and directory entry); fails if it exists. */
    public static BitmapFile create(Path file, Header header) {
        long[] words = new long[wordCount(header.regionCount())];
        FileChannel ch = null;
        try {
            ch = FileModes.openPrivate(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            writeImage(ch, header, words);
            ch.force(true);
            forceDirectory(file);
            return new BitmapFile(file, ch, header, words, List.of(), 0);
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
     * (kind, volume, node, geometry and era). Bit pages that fail their checksum are repaired
     * conservatively (every region they cover set, written back durably) and listed in
     * {@link #damagedPages()}; a version 1 file is upgraded to version 2. A file that cannot be
     * trusted as a whole throws {@link CorruptBitmapException}; an I/O error {@link FatalException}.
     */
    public static BitmapFile open(Path file, Header expected) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
            int version = readVersion(file, ch);
            Header found = readHeader(file, ch);
            List<String> mismatches = mismatches(found, expected);
            if (!mismatches.isEmpty()) {
                // a foreign file is a misconfiguration (another volume's folder, a resized volume), not damage
                throw new FatalException("bitmap " + file + " belongs elsewhere: " + String.join("; ", mismatches));
            }
            if (version == FORMAT_VERSION_1) {
                long[] words = readWordsV1(file, ch, found.regionCount());
                ch.close();
                ch = upgrade(file, found, words);
                return new BitmapFile(file, ch, found, words, List.of(), FORMAT_VERSION_1);
            }
            List<Integer> damaged = new ArrayList<>();
            long[] words = readWords(file, ch, found.regionCount(), damaged);
            BitmapFile f = new BitmapFile(file, ch, found, words, damaged, 0);
            if (!damaged.isEmpty()) {
                damaged.forEach(f.changedPages::set);
                f.flush();
            }
            return f;
        } catch (NoSuchFileException e) {
            throw new CorruptBitmapException(file, "does not exist", e);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new FatalException("cannot read bitmap " + file + ": " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** Rewrites a version 1 file as version 2 atomically and returns a channel on the new file. */
    private static FileChannel upgrade(Path file, Header header, long[] words) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".upgrade");
        Files.deleteIfExists(tmp);
        try (FileChannel out = FileModes.openPrivate(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            writeImage(out, header, words);
            out.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(tmp); // the version 1 file is untouched; a retry starts over
            throw e;
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(file);
        return FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    /** Writes the header and every bit page of {@code words} (with their checksums) from offset 0. */
    private static void writeImage(FileChannel ch, Header header, long[] words) throws IOException {
        writeFully(ch, encodeHeader(header), 0);
        int pages = pageCount(header.regionCount());
        ByteBuffer image = ByteBuffer.allocate(Math.min(pages, 256) * PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < pages; ) {
            image.clear();
            int first = p;
            while (p < pages && image.hasRemaining()) {
                image.put(encodePage(words, p++));
            }
            image.flip();
            writeFully(ch, image, HEADER_SIZE + (long) first * PAGE_SIZE);
        }
    }

    /** Reads and validates the header of a bitmap file (either format) without opening it for writing. */
    public static Header readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch);
        } catch (NoSuchFileException e) {
            throw new CorruptBitmapException(file, "does not exist", e);
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

    /**
     * The bit pages that failed their checksum at open, ascending; each was repaired by setting
     * every region it covers ({@link #pageRegions}). Empty for a sound file.
     */
    public List<Integer> damagedPages() {
        return damagedPages;
    }

    /** The regions bit page {@code page} covers, as [first, last]. */
    public RegionRange pageRegions(int page) {
        long first = (long) page * REGIONS_PER_PAGE;
        return new RegionRange(first, Math.min(regionCount(), first + REGIONS_PER_PAGE) - 1);
    }

    /** The format version the file had before {@link #open} upgraded it, or 0 when it was current. */
    public int upgradedFrom() {
        return upgradedFrom;
    }

    /** Sets every region in memory (durable after {@link #flush()}): the conservative content of a lost file. */
    public void setAll() {
        long n = regionCount();
        for (int w = 0; w < words.length; w++) {
            words[w] = -1L;
        }
        int tail = (int) (n & 63);
        if (tail != 0) {
            words[words.length - 1] = (1L << tail) - 1;
        }
        changedPages.set(0, pageCount(n));
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
            pages[i] = p;
            contents[i++] = encodePage(words, p);
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

    /** Byte length of a (version 2) bitmap file for {@code regionCount} regions. */
    public static long fileSize(long regionCount) {
        return HEADER_SIZE + (long) pageCount(regionCount) * PAGE_SIZE;
    }

    static int pageCount(long regionCount) {
        return (wordCount(regionCount) + WORDS_PER_PAGE - 1) / WORDS_PER_PAGE;
    }

    private static long fileSizeV1(long regionCount) {
        long bitBytes = (long) wordCount(regionCount) * Long.BYTES;
        return HEADER_SIZE + (bitBytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
    }

    /** Bit page {@code p} of {@code words} with its checksum, ready to write. */
    static ByteBuffer encodePage(long[] words, int p) {
        ByteBuffer page = ByteBuffer.allocate(PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        int end = Math.min(words.length, (p + 1) * WORDS_PER_PAGE);
        for (int w = p * WORDS_PER_PAGE; w < end; w++) {
            page.putLong(words[w]);
        }
        page.putInt(OFF_PAGE_CRC, crc(page));
        return page.clear();
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
            throw new CorruptBitmapException(file, "is truncated: " + size + " bytes, the header alone needs " + HEADER_SIZE);
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, 0);
        byte[] magic = new byte[MAGIC.length];
        b.get(0, magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CorruptBitmapException(file, "has wrong magic " + hex(magic) + " (expected " + hex(MAGIC) + "): not a blockrep bitmap");
        }
        int version = Short.toUnsignedInt(b.getShort(OFF_VERSION));
        if (version != FORMAT_VERSION && version != FORMAT_VERSION_1) {
            throw new CorruptBitmapException(file, "has format version " + version + "; this build reads versions "
                    + FORMAT_VERSION_1 + " and " + FORMAT_VERSION);
        }
        int stored = b.getInt(OFF_CRC);
        int actual = crc(b);
        if (stored != actual) {
            throw new CorruptBitmapException(file, String.format("header checksum mismatch: stored CRC32C %08x, computed %08x (corrupt header)",
                    stored, actual));
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
            throw new CorruptBitmapException(file, "has an invalid header: " + String.join("; ", problems));
        }
        RegionGeometry geometry = new RegionGeometry(volumeSize, regionSize);
        long regionCount = b.getLong(OFF_REGION_COUNT);
        if (regionCount != geometry.regionCount()) {
            throw new CorruptBitmapException(file, "records " + regionCount + " regions but its geometry has "
                    + geometry.regionCount());
        }
        Header header;
        try {
            header = new Header(kind, volumeId, nodeId, geometry, b.getLong(OFF_ERA));
        } catch (RuntimeException e) {
            throw new CorruptBitmapException(file, "has an invalid header: " + e.getMessage(), e);
        }
        long expectedSize = version == FORMAT_VERSION_1 ? fileSizeV1(regionCount) : fileSize(regionCount);
        if (size != expectedSize) {
            throw new CorruptBitmapException(file, "is " + (size < expectedSize ? "truncated" : "too long") + ": "
                    + size + " bytes, expected " + expectedSize + " for " + regionCount + " regions");
        }
        return header;
    }

    private static int readVersion(Path file, FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(OFF_VERSION + 2).order(ByteOrder.LITTLE_ENDIAN);
        if (!FileIo.readFully(ch, b, 0)) {
            return -1; // readHeader names the truncation
        }
        return Short.toUnsignedInt(b.getShort(OFF_VERSION));
    }

    /** Reads version 2 bit pages; a page failing its checksum is set whole and its number added to {@code damaged}. */
    private static long[] readWords(Path file, FileChannel ch, long regionCount, List<Integer> damaged) throws IOException {
        long[] words = new long[wordCount(regionCount)];
        int pages = pageCount(regionCount);
        ByteBuffer page = ByteBuffer.allocate(PAGE_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p < pages; p++) {
            page.clear();
            readFully(ch, page, HEADER_SIZE + (long) p * PAGE_SIZE);
            int first = p * WORDS_PER_PAGE;
            int end = Math.min(words.length, first + WORDS_PER_PAGE);
            if (page.getInt(OFF_PAGE_CRC) != crc(page)) {
                damaged.add(p);
                Arrays.fill(words, first, end, -1L);
                continue;
            }
            for (int w = first; w < end; w++) {
                words[w] = page.getLong((w - first) * Long.BYTES);
            }
        }
        int tail = (int) (regionCount & 63);
        if (tail != 0) {
            int lastPage = pages - 1;
            if (!damaged.isEmpty() && damaged.get(damaged.size() - 1) == lastPage) {
                words[words.length - 1] &= (1L << tail) - 1; // a repaired last page sets real regions only
            } else if ((words[words.length - 1] >>> tail) != 0) {
                throw new CorruptBitmapException(file, "is corrupt: bits are set past the last region " + (regionCount - 1));
            }
        }
        return words;
    }

    /** Reads version 1 bit pages: 512 words each, no checksum. */
    private static long[] readWordsV1(Path file, FileChannel ch, long regionCount) throws IOException {
        long[] words = new long[wordCount(regionCount)];
        ByteBuffer buf = ByteBuffer.allocate(V1_WORDS_PER_PAGE * Long.BYTES * 256).order(ByteOrder.LITTLE_ENDIAN);
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
            throw new CorruptBitmapException(file, "is corrupt: bits are set past the last region " + (regionCount - 1));
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

    /** CRC32C of the first 4092 bytes of a 4 KiB page (the header or a bit page). */
    private static int crc(ByteBuffer page) {
        CRC32C crc = new CRC32C();
        crc.update(page.duplicate().clear().limit(OFF_CRC));
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
