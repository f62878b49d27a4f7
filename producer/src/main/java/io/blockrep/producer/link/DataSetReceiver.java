package io.blockrep.producer.link;

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
        if (j.extentCount() >= open.begin.extentCount() || data.remaining() > open.begin.totalBytes() - j.totalBytes()) {
            return refuse(LinkStatus.DATASET_MISMATCH, "extent " + (j.extentCount() + 1) + " goes beyond the "
                    + open.begin.extentCount() + " extents / " + open.begin.totalBytes() + " bytes announced by BEGIN");
        }
        try {
            j.append(x.offset(), data);
            return Ack.OK;
        } catch (IOException e) {
            log.error("link from {}: journaling data set {} failed", peer, x.setId(), e);
            return refuse(LinkStatus.IO_ERROR, "journal write failed: " + e);
        }
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
