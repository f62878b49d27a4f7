package io.blockrep.producer.nbd;

import static io.blockrep.producer.nbd.NbdWire.*;

import io.blockrep.common.InvalidInputException;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NBD client connection: negotiation, then the transmission phase.
 *
 * <p>Threading model. One reader thread runs {@link #run()}: it decodes each request, reads a
 * WRITE's whole payload into a pooled buffer, and hands the request to the export. It never
 * waits for the export, so a connection keeps up to {@link #MAX_IN_FLIGHT} requests (and
 * {@link #MAX_IN_FLIGHT_BYTES} of payload) in flight; past that it blocks, which is the client's
 * back-pressure. The reply is written by whichever thread completes the export's stage, under
 * the socket's output lock, so replies never interleave; they may go out in any order, as the
 * spec allows (the client matches them by cookie). Replies completed on the reader thread are
 * left in the output buffer and flushed before the reader next blocks (see {@link NbdSocket});
 * replies completed elsewhere are flushed at once.
 *
 * <p>Invariants: the export sees a WRITE only after its payload has fully arrived, so a client
 * that vanishes mid-request writes nothing; a request the server refuses (out of range,
 * read-only, unknown command) has its payload consumed, so the stream stays in sync. Protocol
 * violations the stream cannot recover from (bad magic, oversized WRITE payload) close the
 * connection. {@link #close()} may be called from any thread and makes the reader exit.
 */
final class NbdConnection implements Runnable, Closeable {
    private static final Logger log = LoggerFactory.getLogger(NbdConnection.class);
    static final int MAX_IN_FLIGHT = 64;
    static final int MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

    private final NbdSocket socket;
    private final NbdExportRegistry registry;
    private final String peer;
    private final BufferPool buffers = new BufferPool();
    private final Semaphore requestPermits = new Semaphore(MAX_IN_FLIGHT);
    private final Semaphore bytePermits = new Semaphore(MAX_IN_FLIGHT_BYTES);
    private volatile Thread reader;
    private volatile boolean closed;
    /** The export being served and whether it was writable when the client connected (null during negotiation). */
    private volatile String servedExport;
    private volatile boolean servedWritable;

    NbdConnection(ByteChannel channel, NbdExportRegistry registry, String peer) {
        this.socket = new NbdSocket(channel);
        this.registry = registry;
        this.peer = peer;
    }

    String peer() {
        return peer;
    }

    /** True when this connection serves {@code export} and negotiated it writable. */
    boolean holdsWritable(String export) {
        return servedWritable && export.equals(servedExport);
    }

    @Override
    public void run() {
        reader = Thread.currentThread();
        try {
            Optional<NbdExport> export = new NbdHandshake(socket, registry, peer).negotiate();
            if (export.isPresent()) {
                log.debug("{}: serving export '{}'", peer, export.get().name());
                servedWritable = !export.get().readOnly();
                servedExport = export.get().name();
                serve(export.get());
            }
        } catch (EOFException e) {
            log.debug("{}: {}", peer, e.getMessage());
        } catch (ClosedChannelException e) {
            log.debug("{}: connection closed", peer);
        } catch (IOException e) {
            if (!closed) {
                log.info("{}: connection failed: {}", peer, e.toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("{}: connection failed", peer, e);
        } finally {
            close();
        }
    }

    private void serve(NbdExport export) throws IOException, InterruptedException {
        while (true) {
            Request r = getRequest(socket.require(REQUEST_SIZE));
            if (r == null) {
                log.warn("{}: bad request magic; closing", peer);
                return;
            }
            switch (r.type()) {
                case CMD_READ -> read(export, r);
                case CMD_WRITE -> {
                    if (!write(export, r)) {
                        return;
                    }
                }
                case CMD_FLUSH -> submit(r, null, false, export::flush);
                case CMD_TRIM -> {
                    if (checkWritable(export, r)) {
                        submit(r, null, false, () -> export.trim(r.offset(), r.length()));
                    }
                }
                case CMD_WRITE_ZEROES -> {
                    if (checkWritable(export, r)) {
                        submit(r, null, false, () -> export.writeZeroes(r.offset(), r.length(), r.fua()));
                    }
                }
                case CMD_DISC -> {
                    drainInFlight();
                    log.debug("{}: client disconnected", peer);
                    return;
                }
                default -> {
                    log.debug("{}: unknown command {}", peer, r.type());
                    reply(r, EINVAL);
                }
            }
        }
    }

    private void read(NbdExport export, Request r) throws IOException, InterruptedException {
        if (r.length() > MAX_PAYLOAD || !inRange(export, r)) {
            reply(r, EINVAL);
            return;
        }
        ByteBuffer buffer = acquire((int) r.length());
        submit(r, buffer, true, () -> export.read(r.offset(), buffer));
    }

    /** Returns false when the connection must close. */
    private boolean write(NbdExport export, Request r) throws IOException, InterruptedException {
        if (r.length() > MAX_PAYLOAD) {
            log.warn("{}: WRITE of {} bytes exceeds the {}-byte maximum; closing", peer, r.length(), MAX_PAYLOAD);
            return false;
        }
        int error = export.readOnly() ? EPERM : inRange(export, r) ? 0 : EINVAL;
        if (error != 0) {
            socket.skip(r.length());
            reply(r, error);
            return true;
        }
        ByteBuffer buffer = acquire((int) r.length());
        try {
            socket.readFully(buffer);
        } catch (IOException e) {
            release(buffer, (int) r.length());
            throw e;
        }
        buffer.flip();
        submit(r, buffer, false, () -> export.write(r.offset(), buffer, r.fua()));
        return true;
    }

    private boolean checkWritable(NbdExport export, Request r) throws IOException {
        int error = export.readOnly() ? EPERM : inRange(export, r) ? 0 : EINVAL;
        if (error != 0) {
            reply(r, error);
        }
        return error == 0;
    }

    private static boolean inRange(NbdExport export, Request r) {
        return r.offset() >= 0 && r.length() <= export.size() && r.offset() <= export.size() - r.length();
    }

    /**
     * Starts an export operation and arranges its reply. {@code buffer}, if any, was taken with
     * {@link #acquire} and is released after the reply; with {@code withData} it is the READ data.
     */
    private void submit(Request r, ByteBuffer buffer, boolean withData, Supplier<CompletionStage<Void>> op)
            throws InterruptedException, IOException {
        if (buffer == null) {
            acquirePermits(0);
        }
        CompletionStage<Void> stage;
        try {
            stage = op.get();
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedStage(e);
        }
        stage.whenComplete((ignored, failure) -> complete(r, buffer, withData, failure));
    }

    private void complete(Request r, ByteBuffer buffer, boolean withData, Throwable failure) {
        try {
            int error = failure == null ? 0 : errorFor(r, failure);
            boolean onReader = Thread.currentThread() == reader;
            ByteBuffer out = socket.lockOutput(SIMPLE_REPLY_SIZE);
            try {
                putSimpleReply(out, error, r.cookie());
                if (withData && error == 0) {
                    socket.writePayloadLocked(buffer.flip());
                }
                if (!onReader) {
                    socket.drainLocked();
                }
            } finally {
                socket.unlockOutput();
            }
        } catch (IOException e) {
            if (!closed) {
                log.debug("{}: cannot send reply: {}", peer, e.toString());
            }
            close();
        } finally {
            if (buffer != null) {
                release(buffer, (int) r.length());
            } else {
                releasePermits(0);
            }
        }
    }

    private int errorFor(Request r, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof ReadOnlyExportException) {
            log.debug("{}: {} refused: {}", peer, commandName(r.type()), cause.getMessage());
            return EPERM;
        }
        if (cause instanceof InvalidInputException) {
            log.debug("{}: {} refused: {}", peer, commandName(r.type()), cause.getMessage());
            return EINVAL;
        }
        log.warn("{}: {} at offset {} length {} failed", peer, commandName(r.type()), r.offset(), r.length(), cause);
        return EIO;
    }

    private void reply(Request r, int error) throws IOException {
        ByteBuffer out = socket.lockOutput(SIMPLE_REPLY_SIZE);
        try {
            putSimpleReply(out, error, r.cookie());
        } finally {
            socket.unlockOutput();
        }
    }

    private ByteBuffer acquire(int length) throws InterruptedException, IOException {
        acquirePermits(length);
        return buffers.acquire(length);
    }

    private void release(ByteBuffer buffer, int length) {
        buffers.release(buffer);
        releasePermits(length);
    }

    private void acquirePermits(int bytes) throws InterruptedException, IOException {
        int cost = Math.max(1, bytes);
        if (!requestPermits.tryAcquire()) {
            socket.flush();
            requestPermits.acquire();
        }
        if (!bytePermits.tryAcquire(cost)) {
            socket.flush();
            bytePermits.acquire(cost);
        }
    }

    private void releasePermits(int bytes) {
        bytePermits.release(Math.max(1, bytes));
        requestPermits.release();
    }

    /** Waits until every request in flight has been answered, then flushes the replies. */
    private void drainInFlight() throws InterruptedException, IOException {
        socket.flush();
        requestPermits.acquire(MAX_IN_FLIGHT);
        requestPermits.release(MAX_IN_FLIGHT);
        socket.flush();
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("{}: close failed: {}", peer, e.toString());
        }
    }
}
