package io.blockrep.producer.link;

import io.blockrep.common.link.DataSetCrc;
import io.blockrep.common.link.LinkMessage.Ack;
import io.blockrep.common.link.LinkMessage.DataSetAck;
import io.blockrep.common.link.LinkMessage.DataSetBegin;
import io.blockrep.common.link.LinkMessage.DataSetCommit;
import io.blockrep.common.link.LinkMessage.DataSetExtent;
import io.blockrep.common.link.LinkProtocolException;
import io.blockrep.common.link.LinkStatus;
import io.blockrep.common.volume.Volume;
import io.blockrep.producer.journal.DataSetJournal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data set a {@link ServerConnection} has open (at most one). BEGIN opens the journal, each
 * EXTENT is range-checked and appended, COMMIT checks count, byte total and CRC against BEGIN and
 * the extents, then runs {@link DataSetJournal}'s commit, apply, drop and only then answers OK. The
 * dropped journal's file is kept for the connection's next set of the same volume ({@link
 * DataSetJournal#next}), which saves a file creation, a deletion and two directory flushes per set; it
 * is deleted when the connection ends.
 *
 * <p>Consistency. Before anything of a set is journaled, BEGIN tells the facility
 * ({@link LinkVolumes#resyncBegun}), which marks this copy inconsistent durably on the first set of
 * a resync: from then on the copy is a mix of old and new data until the primary's history is
 * adopted (GENERATION inSync=true), and promote refuses it without {@code --force}, also after a
 * crash. This does not depend on the primary's GENERATION(inSync=false) getting through. If that
 * cannot be recorded, the set is refused with IO_ERROR and nothing of it is applied.
 *
 * <p>Direct sets (DATASET_BEGIN with the DIRECT flag: a replayer's copy) skip the journal: each
 * EXTENT is range-checked and written to the volume as it arrives, COMMIT checks count, bytes and CRC
 * as above, flushes the volume and answers OK. The copy is already marked inconsistent by then (see
 * above), so a set cut short (connection lost, crash, a refusal after some extents were written)
 * leaves regions of mixed data on a copy nobody may take as consistent, and its sender, never
 * acknowledged, still holds them dirty and sends them again. What the journal added was the set's
 * atomicity on that inconsistent copy, at the price of writing every byte twice and three flushes
 * per set: the replica's disk is what bounds a full copy or an initial sync.
 *
 * <p>A refused set (out-of-range extent, count or size beyond BEGIN, I/O error on the journal) has
 * its journal deleted at once; its remaining EXTENTs and its COMMIT are answered with the same
 * refusal and nothing of it reaches the volume. Frames out of order (EXTENT or COMMIT without an
 * open set of that id, BEGIN while one is open) are protocol errors. When the connection ends with
 * a set open, {@link #abort} deletes its journal: nothing of an unfinished set is ever applied.
 *
 * <p>A committed set whose apply fails (the volume's store fails: ENOSPC, EIO) is answered with
 * DATASET_ACK IO_ERROR (the connection then ends, see {@link ServerConnection}) and its journal is
 * deleted: the set was not acknowledged, so its sender still holds its regions dirty and sends
 * them again, and the copy is already marked inconsistent. Keeping the journal would be wrong: the
 * next start would re-apply this old data over whatever the store took after it recovered. (Only
 * a crash <em>during</em> an apply leaves a committed journal, which the next start re-applies:
 * then nothing newer can have reached the volume.) Not thread-safe: used by the connection's
 * reader thread only.
 */
final class DataSetReceiver {
    private static final Logger log = LoggerFactory.getLogger(DataSetReceiver.class);

    private final String peer;
    private final LinkVolumes volumes;
    private Open open;
    /** The dropped journal of this connection's last applied set, and its volume's directory, for reuse. */
    private DataSetJournal spare;
    private Path spareDir;

    private static final class Open {
        final DataSetBegin begin;
        final long openedNanos = System.nanoTime();
        Path dir;
        DataSetJournal journal;
        Ack refusal;
        /** A direct set's running figures (a journaled set's are the journal's). */
        final DataSetCrc crc = new DataSetCrc();
        int extents;
        long bytes;

        Open(DataSetBegin begin) {
            this.begin = begin;
        }
    }

    DataSetReceiver(String peer, LinkVolumes volumes) {
        this.peer = peer;
        this.volumes = volumes;
    }

    /** The volume of open set {@code setId}; a protocol error when no such set is open. */
    String volumeOf(long setId) throws LinkProtocolException {
        if (open == null || open.begin.setId() != setId) {
            throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, "data set " + setId + " is not open"
                    + (open == null ? "" : " (set " + open.begin.setId() + " is)"));
        }
        return open.begin.volume();
    }

    Ack begin(DataSetBegin b, LinkVolumes.Entry volume) throws LinkProtocolException {
        if (open != null) {
            throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, "BEGIN of data set " + b.setId()
                    + " while set " + open.begin.setId() + " is still open");
        }
        open = new Open(b);
        try {
            volumes.resyncBegun(b.volume());
        } catch (RuntimeException e) {
            log.error("link from {}: cannot mark '{}' inconsistent before data set {}", peer, b.volume(), b.setId(), e);
            return refuse(LinkStatus.IO_ERROR, "cannot mark this copy inconsistent before the data set: " + e.getMessage());
        }
        if (b.direct()) {
            return Ack.OK;
        }
        try {
            open.journal = journalFor(volume.volumeDir(), b);
            return Ack.OK;
        } catch (IOException e) {
            log.error("link from {}: cannot open the journal of data set {} on '{}'", peer, b.setId(), b.volume(), e);
            return refuse(LinkStatus.IO_ERROR, "cannot open the journal: " + e);
        }
    }

    Ack extent(DataSetExtent x, Volume volume) {
        if (open.refusal != null) {
            return open.refusal;
        }
        ByteBuffer data = x.data();
        DataSetJournal j = open.journal;
        if (!volume.geometry().contains(x.offset(), data.remaining())) {
            return refuse(LinkStatus.OUT_OF_RANGE, "extent [" + x.offset() + ", +" + data.remaining()
                    + ") is outside volume '" + volume.id() + "' (size " + volume.size() + "); data set refused");
        }
        int extents = j == null ? open.extents : j.extentCount();
        long bytes = j == null ? open.bytes : j.totalBytes();
        if (extents >= open.begin.extentCount() || data.remaining() > open.begin.totalBytes() - bytes) {
            return refuse(LinkStatus.DATASET_MISMATCH, "extent " + (extents + 1) + " goes beyond the "
                    + open.begin.extentCount() + " extents / " + open.begin.totalBytes() + " bytes announced by BEGIN");
        }
        if (j == null) {
            return direct(x, data, volume);
        }
        try {
            j.append(x.offset(), data);
            return Ack.OK;
        } catch (IOException e) {
            log.error("link from {}: journaling data set {} failed", peer, x.setId(), e);
            return refuse(LinkStatus.IO_ERROR, "journal write failed: " + e);
        }
    }

    /** A direct set's extent: straight to the volume (not flushed until COMMIT). */
    private Ack direct(DataSetExtent x, ByteBuffer data, Volume volume) {
        open.crc.add(x.offset(), data);
        open.extents++;
        open.bytes += data.remaining();
        try {
            volume.write(x.offset(), data);
            return Ack.OK;
        } catch (IOException e) {
            log.error("link from {}: writing data set {} to '{}' failed", peer, x.setId(), volume.id(), e);
            return refuse(LinkStatus.IO_ERROR, "volume write failed: " + e);
        }
    }

    /** COMMIT of a direct set: the figures checked, then the volume flushed before OK. */
    private DataSetAck commitDirect(DataSetCommit c, Open set, Volume volume) {
        long id = c.setId();
        if (c.extentCount() != set.extents || set.extents != set.begin.extentCount() || set.bytes != set.begin.totalBytes()
                || c.crc32c() != set.crc.value()) {
            return new DataSetAck(id, LinkStatus.DATASET_MISMATCH, String.format(
                    "COMMIT says %d extents, CRC32C 0x%08X; received %d extents, %d bytes, CRC32C 0x%08X; BEGIN said %d extents, %d bytes"
                            + " (direct set: what arrived is on the volume, unacknowledged)",
                    c.extentCount(), c.crc32c(), set.extents, set.bytes, set.crc.value(), set.begin.extentCount(), set.begin.totalBytes()));
        }
        try {
            volume.flush();
        } catch (IOException e) {
            log.error("link from {}: flushing '{}' after direct data set {} failed", peer, volume.id(), id, e);
            return new DataSetAck(id, LinkStatus.IO_ERROR, "flushing data set " + id + " failed: " + e.getMessage());
        }
        if (log.isDebugEnabled()) {
            log.debug("link from {}: direct data set {} applied to '{}' ({} extents, {} bytes) in {} ms", peer, id, volume.id(),
                    set.extents, set.bytes, (System.nanoTime() - set.openedNanos) / 1_000_000);
        }
        volumes.dataSetApplied(set.begin.volume(), set.bytes);
        return new DataSetAck(id, LinkStatus.OK, "");
    }

    /**
     * Closes the set. OK only after the set is durable on the volume and its journal gone; IO_ERROR
     * when the journal or the volume failed (the connection must then not apply anything more).
     */
    DataSetAck commit(DataSetCommit c, Volume volume) {
        Open set = open;
        open = null;
        long id = c.setId();
        if (set.refusal != null) {
            return new DataSetAck(id, set.refusal.status(), set.refusal.message());
        }
        if (set.begin.direct()) {
            return commitDirect(c, set, volume);
        }
        DataSetJournal j = set.journal;
        if (c.extentCount() != j.extentCount() || j.extentCount() != set.begin.extentCount()
                || j.totalBytes() != set.begin.totalBytes() || c.crc32c() != j.setCrc()) {
            discard(j);
            return new DataSetAck(id, LinkStatus.DATASET_MISMATCH, String.format(
                    "COMMIT says %d extents, CRC32C 0x%08X; received %d extents, %d bytes, CRC32C 0x%08X; BEGIN said %d extents, %d bytes",
                    c.extentCount(), c.crc32c(), j.extentCount(), j.totalBytes(), j.setCrc(),
                    set.begin.extentCount(), set.begin.totalBytes()));
        }
        long t0 = System.nanoTime();
        try {
            j.commit();
        } catch (IOException e) {
            log.error("link from {}: committing the journal of data set {} failed", peer, id, e);
            discard(j);
            return new DataSetAck(id, LinkStatus.IO_ERROR, "journal commit failed: " + e);
        }
        long t1 = System.nanoTime();
        long t2;
        try {
            j.apply(volume);
            t2 = System.nanoTime();
            j.drop();
        } catch (IOException | RuntimeException e) {
            log.error("link from {}: applying committed data set {} to '{}' failed; the set is discarded (its sender"
                    + " resends it) and this copy stays inconsistent", peer, id, volume.id(), e);
            discard(j);
            return new DataSetAck(id, LinkStatus.IO_ERROR, "applying data set " + id + " failed: " + e.getMessage());
        }
        spare = j;
        spareDir = set.dir;
        volumes.dataSetApplied(set.begin.volume(), j.totalBytes());
        if (log.isDebugEnabled()) {
            long t3 = System.nanoTime();
            log.debug("link from {}: data set {} applied to '{}' ({} extents, {} bytes); received in {} ms, commit {} ms,"
                    + " apply {} ms, drop {} ms", peer, id, volume.id(), j.extentCount(), j.totalBytes(),
                    (t0 - set.openedNanos) / 1_000_000, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
        }
        return new DataSetAck(id, LinkStatus.OK, "");
    }

    /** A new journal for set {@code b}, in the spare journal's file when there is one for this volume. */
    private DataSetJournal journalFor(Path volumeDir, DataSetBegin b) throws IOException {
        open.dir = volumeDir;
        DataSetJournal reuse = spare;
        spare = null;
        if (reuse != null && volumeDir.equals(spareDir) && reuse.setId() != b.setId()) {
            try {
                return reuse.next(b.volume(), b.setId());
            } catch (IOException e) {
                discard(reuse);
                throw e;
            }
        }
        if (reuse != null) {
            discard(reuse);
        }
        return DataSetJournal.create(volumeDir, b.volume(), b.setId());
    }

    /** The connection ended: an open set's journal is deleted, nothing of it is applied; the spare is deleted. */
    void abort() {
        if (spare != null) {
            discard(spare);
            spare = null;
        }
        if (open != null) {
            log.warn("link from {}: connection ended inside data set {}; discarded", peer, open.begin.setId());
            if (open.journal != null) {
                discard(open.journal);
            }
            open = null;
        }
    }

    private Ack refuse(LinkStatus status, String message) {
        if (open.journal != null) {
            discard(open.journal);
        }
        log.warn("link from {}: data set {} refused: {}", peer, open.begin.setId(), message);
        open.refusal = new Ack(status, message);
        return open.refusal;
    }

    private void discard(DataSetJournal j) {
        try {
            j.delete();
        } catch (IOException e) {
            log.error("link from {}: deleting the journal of data set {} failed; recovery will discard it", peer, j.setId(), e);
        }
    }
}
