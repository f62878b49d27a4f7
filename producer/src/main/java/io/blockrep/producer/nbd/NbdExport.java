package io.blockrep.producer.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;

/**
 * What the NBD server serves: a named, fixed-size byte range with asynchronous I/O.
 *
 * <p>Every I/O method returns a stage that completes when the operation is done in the export's
 * sense: for {@link #write} with {@code fua} and for {@link #flush}, durable (and, once
 * replication lands, acknowledged by the peer). The server replies to the client only then, so an
 * implementation may complete on any thread and may keep many operations in flight; it must be
 * thread-safe. A stage failing with {@link io.blockrep.common.InvalidInputException} becomes
 * EINVAL on the wire, any other failure EIO.
 *
 * <p>Buffers belong to the server: an implementation may use {@code dst}/{@code data} until its
 * stage completes and must not keep them afterwards. The server checks ranges against
 * {@link #size()} and refuses writes to a {@link #readOnly()} export before calling in, so
 * implementations see only in-range requests (they should still check, cheaply).
 */
public interface NbdExport {
    /** The export name clients ask for; for volumes, the volume id. */
    String name();

    /** Size in bytes; fixed for the lifetime of the export. */
    long size();

    boolean readOnly();

    /**
     * True when a flush (or FUA write) completed on one connection makes every write completed on
     * any connection to this export durable, so clients may spread I/O over several connections
     * (NBD_FLAG_CAN_MULTI_CONN).
     */
    boolean canMultiConn();

    /** Fills {@code dst.remaining()} bytes from {@code offset}. */
    CompletionStage<Void> read(long offset, ByteBuffer dst);

    /** Writes {@code data.remaining()} bytes at {@code offset}; with {@code fua}, durably. */
    CompletionStage<Void> write(long offset, ByteBuffer data, boolean fua);

    /** Writes {@code length} zero bytes at {@code offset}; with {@code fua}, durably. */
    CompletionStage<Void> writeZeroes(long offset, long length, boolean fua);

    /** Discard hint; an export may keep the data. */
    CompletionStage<Void> trim(long offset, long length);

    /** Makes every completed write durable. */
    CompletionStage<Void> flush();
}
