package io.blockrep.producer.nbd;

import static io.blockrep.producer.nbd.NbdWire.*;

import io.blockrep.common.InvalidInputException;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
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
 * <p>Threading model. One reader thread runs {@link #run()}: it negotiates, then decodes each
 * request, reads a WRITE's whole payload into a pooled buffer, and hands the request to the export.
 * It never waits for the export, so a connection keeps up to {@link #MAX_IN_FLIGHT} requests (and
 * {@link #MAX_IN_FLIGHT_BYTES} of payload) in flight; past that it blocks, which is the client's
 * back-pressure. Replies are written by the connection's own {@link ReplyWriter} thread: whichever
 * thread completes the export's stage only queues the reply, which never blocks (the queue has room
 * for every request in flight). So a client that stops reading blocks its own two threads and
 * nothing else; the server's watchdog ({@link #expired}) closes it after the reply timeout. Replies
 * may go out in any order, as the spec allows (the client matches them by cookie).
 *
 * <p>Deadlines, checked by the server's watchdog: negotiation (TLS included) must end within the
 * handshake timeout of the accept; a session with nothing in flight and no request for the idle
 * timeout is closed; a reply write that makes no progress for the reply timeout closes the
 * connection.
 *
 * <p>Invariants: the export sees a WRITE only after its payload has fully arrived, so a client
 * that vanishes mid-request writes nothing; a request the server refuses (out of range,
 * read-only, unknown command) has its payload consumed, so the stream stays in sync. Protocol
 * violations the stream cannot recover from (bad magic, oversized WRITE payload) close the
 * connection. {@link #close()} may be called from any thread, never blocks, and makes both
 * threads exit.
 */
final class NbdConnection implements Runnable, Closeable {
    private static final Logger log = LoggerFactory.getLogger(NbdConnection.class);
    static final int MAX_IN_FLIGHT = 64;
    static final int MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

    private final NbdSocket socket;
    private final NbdExportRegistry registry;
    private final String peer;
    private final NbdServer.Limits limits;
    private final NbdTls tls;
    private final BufferPool buffers = new BufferPool();
    private final Semaphore requestPermits = new Semaphore(MAX_IN_FLIGHT);
    private final Semaphore bytePermits = new Semaphore(MAX_IN_FLIGHT_BYTES);
    private final ReplyWriter writer;
    private final long acceptedNanos = System.nanoTime();
    private volatile Thread reader;
    private volatile long lastActivityNanos = acceptedNanos;
    private volatile boolean serving;
    private volatile boolean closed;
    /** The export being served and whether it was writable when the client connected (null during negotiation). */
    private volatile String servedExport;
    private volatile boolean servedWritable;
    private final NbdRequestMeters meters;
    /** The served export's meter, set before the first request is read. */
    private volatile NbdRequestMeters.ExportMeter meter = NbdRequestMeters.ExportMeter.NONE;

    NbdConnection(SocketChannel channel, NbdExportRegistry registry, String peer, NbdServer.Limits limits, NbdTls tls) {
        this(channel, registry, peer, limits, tls, NbdRequestMeters.NONE);
    }

    NbdConnection(SocketChannel channel, NbdExportRegistry registry, String peer, NbdServer.Limits limits, NbdTls tls,
                  NbdRequestMeters meters) {
        this.socket = new NbdSocket(channel);
        this.registry = registry;
        this.peer = peer;
        this.limits = limits;
        this.tls = tls;
        this.meters = meters;
        this.writer = new ReplyWriter(socket, peer, MAX_IN_FLIGHT, this::close);
    }

    String peer() {
        return peer;
    }

    /** True when this connection serves {@code export} and negotiated it writable. */
    boolean holdsWritable(String export) {
        return servedWritable && export.equals(servedExport);
    }

    /**
     * The watchdog's check at {@code now} (System.nanoTime): the reason this connection must be
     * closed, or null. Any thread.
     */
    String expired(long now) {
        if (closed) {
            return null;
        }
        if (!serving && now - acceptedNanos > limits.handshakeTimeout().toNanos()) {
            return "no export chosen within the handshake timeout of " + limits.handshakeTimeout().toMillis() + " ms";
        }
        if (socket.writeStalledNanos(now) > limits.replyTimeout().toNanos()) {
            return "not reading replies for " + limits.replyTimeout().toMillis() + " ms (producer.nbd.reply.timeout)";
        }
        long idle = limits.idleTimeout().toNanos();
        if (serving && idle > 0 && requestPermits.availablePermits() >= MAX_IN_FLIGHT && now - lastActivityNanos > idle) {
            return "idle for " + limits.idleTimeout().toSeconds() + " s (producer.nbd.idle.timeout)";
        }
        return null;
    }

    @Override
    public void run() {
        reader = Thread.currentThread();
        try {
            Optional<NbdExport> export = new NbdHandshake(socket, registry, peer, tls).negotiate();
            if (export.isPresent()) {
                log.debug("{}: serving export '{}'", peer, export.get().name());
                servedWritable = !export.get().readOnly();
                servedExport = export.get().name();
                meter = meters.forExport(servedExport);
                lastActivityNanos = System.nanoTime();
                serving = true;
                Thread replies = new Thread(writer, Thread.currentThread().getName().replace("nbd-conn-", "nbd-reply-"));
                replies.setDaemon(true);
                replies.start();
                socket.beforeBlockingRead(writer::flushBeforeBlocking);
                serve(export.get(), replies);
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
        } catch (VirtualMachineError e) {
            throw e;
        } catch (RuntimeException | Error e) {
            // A bug serving this client ends its connection only (it reconnects); the server and other clients go on.
            log.error("{}: connection failed", peer, e);
        } finally {
            close();
        }
    }

    private void serve(NbdExport export, Thread replies) throws IOException, InterruptedException {
        while (true) {
            Request r = getRequest(socket.require(REQUEST_SIZE));
            lastActivityNanos = System.nanoTime();
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
                    drainInFlight(replies);
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

    private boolean checkWritable(NbdExport export, Request r) throws IOException, InterruptedException {
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
        long startNanos = System.nanoTime();
        CompletionStage<Void> stage;
        try {
            stage = op.get();
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedStage(e);
        }
        stage.whenComplete((ignored, failure) -> complete(r, buffer, withData, failure, startNanos));
    }

    /** Queues the reply of a finished operation; runs on whichever thread completed it and never blocks. */
    private void complete(Request r, ByteBuffer buffer, boolean withData, Throwable failure, long startNanos) {
        int error;
        try {
            error = failure == null ? 0 : errorFor(r, failure);
        } catch (RuntimeException e) {
            error = EIO;
        }
        int length = (int) r.length();
        meter.completed(NbdRequestMeters.Command.of(r.type()), r.length(), System.nanoTime() - startNanos, error != 0);
        ByteBuffer data = withData && error == 0 ? buffer.flip() : null;
        Runnable release = buffer == null ? () -> releasePermits(0) : () -> release(buffer, length);
        writer.enqueue(new ReplyWriter.Reply(r.cookie(), error, data, release), Thread.currentThread() != reader);
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

    /** Replies at once to a request refused before reaching the export; holds a permit until written. */
    private void reply(Request r, int error) throws IOException, InterruptedException {
        meter.refused(NbdRequestMeters.Command.of(r.type()));
        acquirePermits(0);
        writer.enqueue(new ReplyWriter.Reply(r.cookie(), error, null, () -> releasePermits(0)), false);
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
            writer.flushBeforeBlocking();
            requestPermits.acquire();
        }
        if (!bytePermits.tryAcquire(cost)) {
            writer.flushBeforeBlocking();
            bytePermits.acquire(cost);
        }
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    private void releasePermits(int bytes) {
        lastActivityNanos = System.nanoTime();
        bytePermits.release(Math.max(1, bytes));
        requestPermits.release();
    }

    /** Waits until every request in flight has been answered and the replies flushed (or the connection closed). */
    private void drainInFlight(Thread replies) throws InterruptedException, IOException {
        writer.flushBeforeBlocking();
        requestPermits.acquire(MAX_IN_FLIGHT);
        requestPermits.release(MAX_IN_FLIGHT);
        writer.finish();
        replies.join();
    }

    /** Closes the socket and wakes both threads; any thread, never blocks. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            log.debug("{}: close failed: {}", peer, e.toString());
        }
        writer.close();
        // Wake a reader waiting for permits; it sees closed and leaves. Permits no longer matter.
        requestPermits.release(MAX_IN_FLIGHT);
        bytePermits.release(MAX_IN_FLIGHT_BYTES);
    }
}
