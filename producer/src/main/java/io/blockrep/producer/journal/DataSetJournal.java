package io.blockrep.producer.journal;

import io.blockrep.common.FatalException;
import io.blockrep.common.io.FileIo;
import io.blockrep.common.io.FileModes;
import io.blockrep.common.InvalidInputException;
import io.blockrep.common.link.DataSetCrc;
import io.blockrep.common.link.LinkFrame;
import io.blockrep.common.volume.Volume;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-disk journal of a data set on the secondary, {@code <volumeDir>/journal/set-<id>.journal}:
 * the owner of its layout. All integers big-endian.
 *
 * <pre>
 * header   0   4  magic 0x42524A4C ("BRJL"); 0 once the set is dropped
 *          4   2  version {@link #VERSION}
 *          6   2  n, length of the volume id
 *          8   n  volume id, UTF-8
 *        8+n   8  set id
 *       16+n   4  CRC32C over [0, 16+n)
 * EXTENT   0   1  kind 1
 *          1   8  offset in the volume
 *          9   4  length L (0..{@link LinkFrame#MAX_DATA})
 *         13   L  data
 *       13+L   4  CRC32C over the set id (8 bytes) then the record's bytes [0, 13+L)
 * COMMIT   0   1  kind 2
 *          1   4  extent count
 *          5   8  total data bytes
 *         13   4  set CRC32C ({@link DataSetCrc}: the value the link's DATASET_COMMIT carries)
 *         17   4  CRC32C over the set id (8 bytes) then the record's bytes [0, 17)
 * </pre>
 *
 * Version 1 (still read, never written) has the same layout with record CRCs over the record's bytes
 * alone. Version 2 seeds them with the set id because a file is reused for the next set of its
 * connection ({@link #next}): the new set's records overwrite the old set's from the start, and a
 * record left behind by the old set can never pass as one of the new set's.
 *
 * <p>Crash-safety order ({@link #commit} then {@link #apply} then {@link #drop}): extents are
 * appended as they arrive (not flushed); the commit record is appended and the file flushed (and, for
 * a new file, its directory); only then is any byte written to the volume; the volume is flushed; then
 * the header's magic is zeroed and the file flushed again, before the set is acknowledged. So after a
 * crash a journal with a valid commit record may have been partly applied and is re-applied whole
 * (idempotent: no later write to the volume can have happened, because the set is not acknowledged
 * yet); a journal without one was never applied and is discarded; a dropped one is removed. Records
 * are read back sequentially and the first bad or truncated record ends the journal, so a torn tail
 * reads as "not committed". Reusing a dropped file for the next set saves the directory flushes and
 * the block allocation of a new file per set; {@link #delete} removes the file when its connection ends.
 *
 * <p>Memory: data is streamed to and from the file in chunks of at most {@link #CHUNK} bytes; only
 * the records' positions (a few longs each) are kept. Not thread-safe: one owner (a link server
 * connection, or recovery at start).
 */
public final class DataSetJournal implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(DataSetJournal.class);

    public static final int MAGIC = 0x42524A4C;
    public static final int VERSION = 2;
    static final int VERSION_1 = 1;
    public static final String DIRECTORY = "journal";
    static final int KIND_EXTENT = 1;
    static final int KIND_COMMIT = 2;
    static final int EXTENT_HEADER = 13;
    static final int COMMIT_RECORD = 21;
    static final int CHUNK = 1 << 20;
    /**
     * The apply loop's chunk, per thread (a link connection's): direct, so the read from the journal
     * and the write to the volume go through no heap copy, and made once instead of once per set.
     */
    private static final ThreadLocal<ByteBuffer> APPLY_BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(CHUNK));

    private final Path file;
    private final FileChannel channel;
    private final String volumeId;
    private final long setId;
    private final int version;
    private final List<Slot> slots;
    private final DataSetCrc setCrc = new DataSetCrc();
    private long position;
    private long totalBytes;
    private boolean committed;
    private boolean dropped;
    /** Why the journal cannot be read although it may have been committed (and partly applied), or null. */
    private String damage;
    /** Whether the file's directory entry is known durable (a reused file), so commit need not flush the directory. */
    private boolean entryDurable;

    /** Where one extent's data sits in the file. */
    private record Slot(long volumeOffset, int length, long filePosition) {
    }

    private DataSetJournal(Path file, FileChannel channel, String volumeId, long setId, int version, List<Slot> slots,
                           long position) {
        this.file = file;
        this.channel = channel;
        this.volumeId = volumeId;
        this.setId = setId;
        this.version = version;
        this.slots = slots;
        this.position = position;
    }

    public static Path directory(Path volumeDir) {
        return volumeDir.resolve(DIRECTORY);
    }

    public static Path file(Path volumeDir, long setId) {
        return directory(volumeDir).resolve("set-" + setId + ".journal");
    }

    /** Starts the journal of a new set; fails if a journal for that set id already exists. */
    public static DataSetJournal create(Path volumeDir, String volumeId, long setId) throws IOException {
        if (setId < 0) {
            throw new IllegalArgumentException("set id " + setId + " is negative");
        }
        FileModes.createPrivateDirectories(directory(volumeDir));
        Path file = file(volumeDir, setId);
        FileChannel ch = FileModes.openPrivate(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            return start(file, ch, volumeId, setId, false);
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /**
     * Starts the journal of the next set in this journal's file, once this set is {@link #drop dropped}:
     * its header and records overwrite this set's from the start. This object is spent afterwards.
     */
    public DataSetJournal next(String volumeId, long setId) throws IOException {
        if (!dropped) {
            throw new IllegalStateException("journal of set " + this.setId + " is not dropped");
        }
        if (setId < 0 || setId == this.setId) {
            throw new IllegalArgumentException("set id " + setId + " cannot follow set " + this.setId);
        }
        dropped = false;
        return start(file, channel, volumeId, setId, true);
    }

    private static DataSetJournal start(Path file, FileChannel ch, String volumeId, long setId, boolean entryDurable)
            throws IOException {
        byte[] id = volumeId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer h = ByteBuffer.allocate(20 + id.length);
        h.putInt(MAGIC).putShort((short) VERSION).putShort((short) id.length).put(id).putLong(setId);
        h.putInt(crc(h.array(), 0, h.position())).flip();
        DataSetJournal j = new DataSetJournal(file, ch, volumeId, setId, VERSION, new ArrayList<>(), 0);
        j.entryDurable = entryDurable;
        j.writeFully(h);
        return j;
    }

    public long setId() {
        return setId;
    }

    public int extentCount() {
        return slots.size();
    }

    public long totalBytes() {
        return totalBytes;
    }

    /** The {@link DataSetCrc} of the extents appended so far. */
    public int setCrc() {
        return setCrc.value();
    }

    /** Appends one extent record; the caller has checked the range against the volume. */
    public void append(long offset, ByteBuffer data) throws IOException {
        if (committed) {
            throw new IllegalStateException("journal of set " + setId + " is already committed");
        }
        int length = data.remaining();
        if (length > LinkFrame.MAX_DATA || offset < 0) {
            throw new IllegalArgumentException("extent [" + offset + ", +" + length + ") cannot be journaled");
        }
        ByteBuffer h = ByteBuffer.allocate(EXTENT_HEADER).put((byte) KIND_EXTENT).putLong(offset).putInt(length).flip();
        CRC32C crc = recordCrc();
        crc.update(h.duplicate());
        crc.update(data.duplicate());
        long at = position;
        writeFully(h, data.duplicate(), ByteBuffer.allocate(4).putInt((int) crc.getValue()).flip());
        slots.add(new Slot(offset, length, at + EXTENT_HEADER));
        setCrc.add(offset, data);
        totalBytes += length;
    }

    /** Appends the commit record and makes the journal durable (file, then, for a new file, its directory entry). */
    public void commit() throws IOException {
        ByteBuffer r = ByteBuffer.allocate(COMMIT_RECORD);
        r.put((byte) KIND_COMMIT).putInt(slots.size()).putLong(totalBytes).putInt(setCrc.value());
        CRC32C crc = recordCrc();
        crc.update(r.array(), 0, r.position());
        r.putInt((int) crc.getValue()).flip();
        writeFully(r);
        channel.force(!entryDurable);
        if (!entryDurable) {
            FileIo.forceDirectory(file.getParent());
            entryDurable = true;
        }
        committed = true;
    }

    /** Writes every extent to {@code volume}, in order, then flushes the volume. Only after {@link #commit}. */
    public void apply(Volume volume) throws IOException {
        if (!committed) {
            throw new IllegalStateException("journal of set " + setId + " is not committed");
        }
        for (Slot s : slots) {
            volume.checkRange(s.volumeOffset, s.length);
        }
        ByteBuffer buf = APPLY_BUFFER.get();
        for (Slot s : slots) {
            for (int done = 0; done < s.length; done += CHUNK) {
                buf.clear().limit(Math.min(CHUNK, s.length - done));
                readFully(channel, buf, s.filePosition + done);
                volume.write(s.volumeOffset + done, buf.flip());
            }
        }
        volume.flush();
    }

    /**
     * After {@link #apply}: zeroes the header's magic and flushes the file, so a restart never applies this
     * set again; the file stays open for {@link #next}.
     */
    public void drop() throws IOException {
        if (!committed) {
            throw new IllegalStateException("journal of set " + setId + " is not applied");
        }
        FileIo.writeFully(channel, ByteBuffer.allocate(4), 0);
        channel.force(false);
        committed = false;
        dropped = true;
    }

    /** Closes and removes the journal file and makes the removal durable. Idempotent. */
    public void delete() throws IOException {
        close();
        if (Files.deleteIfExists(file)) {
            FileIo.forceDirectory(file.getParent());
        }
    }

    /** Closes the file, leaving it in place (what a crash does). */
    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** What {@link #recover} did, by set id. */
    /**
     * What recovery found: sets applied again (committed, not yet dropped), discarded (never
     * committed) and already applied (dropped before the stop; only the file was left).
     */
    public record Recovery(List<Long> reapplied, List<Long> discarded, List<Long> alreadyApplied, List<String> corrupt) {
        public Recovery {
            reapplied = List.copyOf(reapplied);
            discarded = List.copyOf(discarded);
            alreadyApplied = List.copyOf(alreadyApplied);
            corrupt = List.copyOf(corrupt);
        }

        public Recovery(List<Long> reapplied, List<Long> discarded, List<Long> alreadyApplied) {
            this(reapplied, discarded, alreadyApplied, List.of());
        }

        public boolean foundAny() {
            return !reapplied.isEmpty() || !discarded.isEmpty() || !alreadyApplied.isEmpty() || !corrupt.isEmpty();
        }

        /** One line for logs and events. */
        public String summary() {
            return (reapplied.size() + discarded.size() + alreadyApplied.size() + corrupt.size()) + " journal file(s): re-applied "
                    + reapplied + ", discarded as uncommitted " + discarded + ", already applied before the stop " + alreadyApplied
                    + (corrupt.isEmpty() ? "" : ", corrupt and possibly committed (kept aside, not applied) " + corrupt);
        }
    }

    /**
     * Settles every journal left in {@code volumeDir} by a crash; the facility calls it for each
     * volume after opening it and before serving it (NBD, link). A journal with a valid commit
     * record is applied again, whole, and deleted; any other one is deleted without touching the
     * volume, except a damaged one that may have been committed (its header checksum fails, or a
     * record fails while a commit record valid for its set lies further on): it may have been partly
     * applied, so it is not silently discarded but moved aside as {@code <name>.corrupt-<millis>},
     * logged at ERROR and listed in {@link Recovery#corrupt()}; its data cannot be trusted, so it is
     * not applied either. The set was never acknowledged, so the primary still holds its regions
     * dirty; the facility marks the copy inconsistent until a resync completes.
     *
     * @throws FatalException when a committed journal belongs to another volume or does not fit this one
     */
    public static Recovery recover(Path volumeDir, Volume volume) throws IOException {
        Path dir = directory(volumeDir);
        List<Long> reapplied = new ArrayList<>();
        List<Long> discarded = new ArrayList<>();
        List<Long> alreadyApplied = new ArrayList<>();
        List<String> corrupt = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return new Recovery(reapplied, discarded, alreadyApplied);
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "set-*.journal")) {
            ds.forEach(files::add);
        }
        files.sort(java.util.Comparator.comparingLong(DataSetJournal::setIdFromName));
        for (Path f : files) {
            DataSetJournal j = open(f);
            try {
                if (j.dropped) {
                    alreadyApplied.add(j.setId);
                    log.info("volume '{}': data set journal {} was applied before the stop (dropped); removed", volume.id(), f);
                } else if (j.committed) {
                    reapply(j, volume);
                    reapplied.add(j.setId);
                } else if (j.damage != null) {
                    j.close();
                    Path aside = f.resolveSibling(f.getFileName() + ".corrupt-" + System.currentTimeMillis());
                    for (int n = 1; Files.exists(aside); n++) {
                        aside = f.resolveSibling(f.getFileName() + ".corrupt-" + System.currentTimeMillis() + "-" + n);
                    }
                    Files.move(f, aside);
                    FileIo.forceDirectoryIfSupported(dir);
                    corrupt.add(f.getFileName() + " (" + j.damage + ")");
                    log.error("volume '{}': data set journal {} is corrupt and may have been committed ({}); not applied, kept as {}",
                            volume.id(), f, j.damage, aside.getFileName());
                    continue;
                } else {
                    discarded.add(j.setId);
                    log.warn("volume '{}': discarded uncommitted data set journal {}", volume.id(), f);
                }
            } catch (IOException | RuntimeException e) {
                j.close();
                throw e;
            }
            j.delete();
        }
        Recovery r = new Recovery(reapplied, discarded, alreadyApplied, corrupt);
        if (r.foundAny()) {
            log.warn("volume '{}': journal recovery after an unclean stop: {}", volume.id(), r.summary());
        }
        return r;
    }

    /**
     * Journal files of {@code volumeDir} that are not dropped: a set being received, committed or being
     * applied (diagnostics, tests). Reads only each file's magic, so it is cheap and safe while sets are
     * being written.
     */
    public static List<Path> live(Path volumeDir) throws IOException {
        Path dir = directory(volumeDir);
        List<Path> live = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return live;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "set-*.journal")) {
            for (Path f : ds) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    ByteBuffer magic = ByteBuffer.allocate(4);
                    if (!FileIo.readFully(ch, magic, 0) || magic.getInt(0) != 0) {
                        live.add(f);
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // deleted meanwhile
                }
            }
        }
        return live;
    }

    private static void reapply(DataSetJournal j, Volume volume) throws IOException {
        if (!j.volumeId.equals(volume.id())) {
            throw new FatalException("journal " + j.file + " is committed for volume '" + j.volumeId
                    + "', not '" + volume.id() + "'; refusing to apply or discard it");
        }
        try {
            j.apply(volume);
        } catch (InvalidInputException e) {
            throw new FatalException("committed journal " + j.file + " does not fit volume '" + volume.id() + "': "
                    + e.getMessage(), e);
        }
        log.warn("volume '{}': re-applied committed data set {} ({} extents, {} bytes) from {}",
                volume.id(), j.setId, j.extentCount(), j.totalBytes, j.file);
    }

    /** Reads a journal back: header, then records until the first bad or missing one, or a valid commit. */
    static DataSetJournal open(Path f) throws IOException {
        FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
        long size = ch.size();
        ByteBuffer fixed = ByteBuffer.allocate(8);
        boolean whole = size >= 20 && FileIo.readFully(ch, fixed, 0);
        int version = fixed.getShort(4);
        if (!whole || fixed.getInt(0) != MAGIC || (version != VERSION && version != VERSION_1)) {
            DataSetJournal none = new DataSetJournal(f, ch, "", setIdFromName(f), VERSION, List.of(), size);
            none.dropped = whole && fixed.getInt(0) == 0;
            return none;
        }
        int n = fixed.getShort(6) & 0xFFFF;
        ByteBuffer header = ByteBuffer.allocate(20 + n);
        if (!FileIo.readFully(ch, header, 0) || header.getInt(16 + n) != crc(header.array(), 0, 16 + n)) {
            DataSetJournal bad = new DataSetJournal(f, ch, "", setIdFromName(f), VERSION, List.of(), size);
            // A live magic with a bad header: written whole before any record, so damaged since, maybe after its commit.
            bad.damage = size >= 20 + n ? "header checksum mismatch" : null;
            return bad;
        }
        String volumeId = new String(header.array(), 8, n, StandardCharsets.UTF_8);
        DataSetJournal j = new DataSetJournal(f, ch, volumeId, header.getLong(8 + n), version, new ArrayList<>(), 20 + n);
        j.scanRecords(size);
        if (!j.committed && j.version != VERSION_1) {
            long at = j.commitRecordAfter(j.position, size);
            if (at >= 0) {
                j.damage = "a record at byte " + j.position + " fails its checksum, but a commit record of the set follows at byte " + at;
            }
        }
        return j;
    }

    private void scanRecords(long size) throws IOException {
        ByteBuffer kind = ByteBuffer.allocate(1);
        ByteBuffer chunk = ByteBuffer.allocate(CHUNK);
        while (FileIo.readFully(channel, kind.clear(), position)) {
            if (kind.get(0) == KIND_EXTENT) {
                ByteBuffer h = ByteBuffer.allocate(EXTENT_HEADER);
                if (!FileIo.readFully(channel, h, position)) {
                    return;
                }
                long offset = h.getLong(1);
                int length = h.getInt(9);
                if (length < 0 || length > LinkFrame.MAX_DATA || position + EXTENT_HEADER + length + 4 > size) {
                    return;
                }
                CRC32C crc = recordCrc();
                crc.update(h.flip());
                setCrc.addHeader(offset, length);
                for (int done = 0; done < length; done += CHUNK) {
                    chunk.clear().limit(Math.min(CHUNK, length - done));
                    readFully(channel, chunk, position + EXTENT_HEADER + done);
                    chunk.flip();
                    setCrc.addData(chunk);
                    crc.update(chunk);
                }
                ByteBuffer stored = ByteBuffer.allocate(4);
                if (!FileIo.readFully(channel, stored, position + EXTENT_HEADER + length) || stored.getInt(0) != (int) crc.getValue()) {
                    return;
                }
                slots.add(new Slot(offset, length, position + EXTENT_HEADER));
                totalBytes += length;
                position += EXTENT_HEADER + length + 4;
            } else if (kind.get(0) == KIND_COMMIT) {
                ByteBuffer r = ByteBuffer.allocate(COMMIT_RECORD);
                if (!FileIo.readFully(channel, r, position)) {
                    return;
                }
                CRC32C crc = recordCrc();
                crc.update(r.array(), 0, 17);
                if (r.getInt(17) != (int) crc.getValue()) {
                    return;
                }
                committed = r.getInt(1) == slots.size() && r.getLong(5) == totalBytes && r.getInt(13) == setCrc.value();
                return;
            } else {
                return;
            }
        }
    }

    /**
     * The position of a commit record valid for this set (its CRC is seeded with the set id) at or after
     * {@code from}, or -1. Version 2 only: a reused file's leftovers of an earlier set never pass.
     */
    private long commitRecordAfter(long from, long size) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK + COMMIT_RECORD);
        for (long base = from; base + COMMIT_RECORD <= size; base += CHUNK) {
            buf.clear().limit((int) Math.min(buf.capacity(), size - base));
            if (!FileIo.readFully(channel, buf, base)) {
                return -1;
            }
            byte[] b = buf.array();
            for (int i = 0; i + COMMIT_RECORD <= buf.limit() && i < CHUNK; i++) {
                if (b[i] != KIND_COMMIT) {
                    continue;
                }
                CRC32C crc = recordCrc();
                crc.update(b, i, 17);
                if (ByteBuffer.wrap(b, i + 17, 4).getInt() == (int) crc.getValue()) {
                    return base + i;
                }
            }
        }
        return -1;
    }

    private static long setIdFromName(Path f) {
        String name = f.getFileName().toString();
        try {
            return Long.parseLong(name.substring("set-".length(), name.length() - ".journal".length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A record's CRC32C, seeded with the set id from version 2 on. */
    private CRC32C recordCrc() {
        CRC32C c = new CRC32C();
        if (version != VERSION_1) {
            c.update(ByteBuffer.allocate(8).putLong(0, setId));
        }
        return c;
    }

    private void writeFully(ByteBuffer b) throws IOException {
        position = FileIo.writeFully(channel, b, position);
    }

    /** Writes {@code parts} in order at the current position with gathering writes (one system call for a record, mostly). */
    private void writeFully(ByteBuffer... parts) throws IOException {
        channel.position(position);
        long left = 0;
        for (ByteBuffer p : parts) {
            left += p.remaining();
        }
        while (left > 0) {
            left -= channel.write(parts);
        }
        position = channel.position();
    }

    private void readFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        if (!FileIo.readFully(ch, b, at)) {
            throw new IOException("journal " + file + " ends early at " + at);
        }
    }

    private static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }
}
