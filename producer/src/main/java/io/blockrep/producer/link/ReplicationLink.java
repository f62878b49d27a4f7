package io.blockrep.producer.link;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.thread.Supervised;
import io.blockrep.common.link.DataSetCrc;
import io.blockrep.common.link.LinkFrame;
import io.blockrep.common.link.LinkHandshake;
import io.blockrep.common.link.LinkMessage;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.LinkProtocolException;
import io.blockrep.common.link.LinkStatus;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary side of the replication link: sends WRITE and FLUSH to the peer's {@link LinkServer}
 * and completes each request's stage on the peer's ACK.
 *
 * <p>Threads. A single <b>supervisor</b> thread connects and handshakes (blocking, bounded by the
 * connect timeout), reconnects with exponential backoff, runs the health tick (ack timeout, lost
 * heartbeats, PING due, damping) and calls the {@link LinkListener}. Each connection (a
 * {@link Session}) has a <b>sender</b> thread, the only writer of its socket, which takes requests
 * from the bounded queue in order, and a <b>receiver</b> thread, the only reader, which matches
 * answers (ACK, DATASET_ACK, HASH_REPLY) to requests by request id. Callers of {@link #write},
 * {@link #flush}, {@link #sendDataSet} and {@link #hashes} only enqueue; they
 * block while the bytes queued or in flight exceed {@link LinkConfig#queueByteCap()}.
 *
 * <p>Invariants (all state below is guarded by {@code lock}):
 * <ul>
 *   <li>every stage returned is completed exactly once: by its ACK, or with
 *       {@link LinkDownException} when the connection it was queued on fails or the link closes;
 *       nothing pending is ever dropped;
 *   <li>requests are written to the socket in queue order and the peer applies them in that order;
 *   <li>the queue is empty whenever there is no live session: a write while down fails at once;
 *   <li>listener calls alternate restored / down, starting with restored, on the supervisor thread;
 *       a connection that fails before its damping interval passed fires neither;
 *   <li>the backoff grows with every failed or flapping connection and resets only on restore;
 *   <li>the frames of one data set ({@link #sendDataSet}) are queued back to back on one session:
 *       sets never interleave with each other (writes may sit between their frames; a set takes
 *       effect on the peer at its COMMIT), and a frame of a set is never sent on a later session
 *       than its BEGIN.
 * </ul>
 * Stages complete on link threads; dependent actions that block should use the async variants.
 */
public final class ReplicationLink implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ReplicationLink.class);

    /** Connection state; writes are accepted in PROBATION and HEALTHY. */
    public enum State { CONNECTING, PROBATION, HEALTHY, CLOSED }

    private final LinkConfig config;
    private final Supplier<List<VolumeInfo>> volumes;
    /** The volumes offered on the latest handshake. */
    private volatile Map<String, VolumeInfo> volumesById = Map.of();
    private volatile LinkHandshake.Outcome lastOutcome;
    private final CompletableFuture<LinkHandshake.Outcome> firstHandshake = new CompletableFuture<>();
    private final LinkListener listener;
    private final Ticker ticker;
    private volatile boolean trustNextConnection;
    private final ScheduledExecutorService supervisor;
    private final Backoff backoff;
    private final AtomicLong requestIds = new AtomicLong();
    /** Held while one data set's frames are queued, so two sets never interleave. */
    private final ReentrantLock setLock = new ReentrantLock();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private State state = State.CONNECTING;
    private Session session;
    private final ArrayDeque<Request<?>> queue = new ArrayDeque<>();
    private long bytesHeld;
    private long sessionEpoch;
    private volatile Socket connecting;

    /** One extent of a data set: {@code data} to be written at {@code offset} of the peer's volume. */
    public record Extent(long offset, ByteBuffer data) {
        public Extent {
            java.util.Objects.requireNonNull(data, "data");
        }
    }

    /** Turns the peer's answer into the request's result; a refusal is thrown as {@link LinkRefusedException}. */
    @FunctionalInterface
    private interface Reply<T> {
        T accept(LinkMessage answer) throws LinkProtocolException;
    }

    private static final long ANY_SESSION = -1;

    private static final Reply<Void> ACKED = m -> {
        if (m instanceof LinkMessage.Ack ack) {
            if (ack.status() != LinkStatus.OK) {
                throw new LinkRefusedException(ack.status(), ack.message());
            }
            return null;
        }
        throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, m.type() + " received where an ACK was due");
    };

    /**
     * @param volumes the volumes offered to the peer, asked anew for every connection (roles and
     *                generation histories change); the peer attaches those it can take, and the
     *                listener learns which at restore
     */
    public ReplicationLink(LinkConfig config, Supplier<List<VolumeInfo>> volumes, LinkListener listener, Ticker ticker) {
        this.config = config;
        this.volumes = volumes;
        this.listener = listener;
        this.ticker = ticker;
        this.backoff = new Backoff(config.backoffMin(), config.backoffMax());
        this.supervisor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "link-supervisor-" + config.peer());
            t.setDaemon(true);
            return t;
        });
    }

    public ReplicationLink(LinkConfig config, Supplier<List<VolumeInfo>> volumes, LinkListener listener) {
        this(config, volumes, listener, Ticker.system());
    }

    /** A link that always offers the same volumes. */
    public ReplicationLink(LinkConfig config, List<VolumeInfo> volumes, LinkListener listener) {
        this(config, () -> volumes, listener, Ticker.system());
    }

    /**
     * The next connection counts as restored as soon as its handshake is done, without damping: it
     * replaces a healthy link that this side dropped on purpose so the peer sees a new offer (a role
     * or generation change), so there is no flapping to guard against. Call before {@link #start}.
     * Only the first connection is trusted; a reconnect after a failure is damped as usual.
     */
    public void trustNextConnection() {
        trustNextConnection = true;
    }

    /** Starts connecting in the background and the health tick. */
    public void start() {
        long tick = Math.max(1_000_000L, Math.min(config.heartbeatInterval().toNanos(),
                Math.min(config.ackTimeout().toNanos(), config.damping().toNanos())) / 4);
        supervisor.execute(this::connect);
        // Guarded: a periodic task that throws is never run again, and with it heartbeats and ack timeouts would stop.
        supervisor.scheduleAtFixedRate(Supervised.guarded("link supervisor tick", this::tick,
                e -> log.error("link to {}: health check failed; checking again at the next tick", config.peer(), e)),
                tick, tick, TimeUnit.NANOSECONDS);
    }

    public State state() {
        lock.lock();
        try {
            return state;
        } finally {
            lock.unlock();
        }
    }

    /** Sends {@code data} to be written at {@code offset} on the peer; completes on the peer's ACK (after its flush when {@code fua}). */
    public CompletionStage<Void> write(String volume, long offset, ByteBuffer data, boolean fua) {
        VolumeInfo v = volumesById.get(volume);
        if (v == null) {
            return CompletableFuture.failedFuture(new InvalidInputException("volume '" + volume + "' is not replicated on this link"));
        }
        int length = data.remaining();
        if (length > LinkFrame.MAX_DATA || offset < 0 || offset > v.size() || length > v.size() - offset) {
            return CompletableFuture.failedFuture(new InvalidInputException("write [" + offset + ", +" + length
                    + ") is outside volume '" + volume + "' (size " + v.size() + ") or larger than " + LinkFrame.MAX_DATA));
        }
        return enqueue(new LinkMessage.Write(volume, offset, fua, data), length, ACKED, ANY_SESSION);
    }

    /** Asks the peer to make every write it acknowledged on {@code volume} durable. */
    public CompletionStage<Void> flush(String volume) {
        if (!volumesById.containsKey(volume)) {
            return CompletableFuture.failedFuture(new InvalidInputException("volume '" + volume + "' is not replicated on this link"));
        }
        return enqueue(new LinkMessage.Flush(volume), 0, ACKED, ANY_SESSION);
    }

    /** Completes when this link's first handshake with the peer is done (the peer then knows what it offered). */
    public CompletionStage<LinkHandshake.Outcome> firstHandshake() {
        return firstHandshake.copy();
    }

    /** Tells the peer where the resync of {@code volume} stands (see {@link LinkMessage.GenerationUpdate}); completes on its ACK. */
    public CompletionStage<Void> sendGeneration(String volume, boolean inSync, List<io.blockrep.common.volume.Generation> history) {
        if (!volumesById.containsKey(volume)) {
            return CompletableFuture.failedFuture(new InvalidInputException("volume '" + volume + "' is not replicated on this link"));
        }
        return enqueue(new LinkMessage.GenerationUpdate(volume, inSync, history), 0, ACKED, ANY_SESSION);
    }

    /**
     * Sends data set {@code setId}: BEGIN, one EXTENT per extent in order, COMMIT. Completes once the
     * peer applied the whole set durably; fails with {@link LinkDownException} if the link fails
     * before that (the peer then holds all of the set or none of it; resend it), or with
     * {@link LinkRefusedException} when the peer refused the set (nothing of it was applied).
     * Blocks while the queue is over its byte cap, like {@link #write}; the caller keeps the
     * extents' buffers untouched until the stage completes.
     */
    public CompletionStage<Void> sendDataSet(String volume, long setId, List<Extent> extents) {
        VolumeInfo v = volumesById.get(volume);
        if (v == null) {
            return CompletableFuture.failedFuture(new InvalidInputException("volume '" + volume + "' is not replicated on this link"));
        }
        if (setId < 0) {
            return CompletableFuture.failedFuture(new InvalidInputException("data set id " + setId + " is negative"));
        }
        DataSetCrc crc = new DataSetCrc();
        long total = 0;
        for (Extent e : extents) {
            int length = e.data().remaining();
            if (length > LinkFrame.MAX_DATA || !new io.blockrep.common.volume.RegionGeometry(v.size(), v.regionSize())
                    .contains(e.offset(), length)) {
                return CompletableFuture.failedFuture(new InvalidInputException("extent [" + e.offset() + ", +" + length
                        + ") of data set " + setId + " is outside volume '" + volume + "' (size " + v.size()
                        + ") or larger than " + LinkFrame.MAX_DATA));
            }
            crc.add(e.offset(), e.data());
            total += length;
        }
        List<CompletableFuture<Void>> parts = new ArrayList<>();
        setLock.lock();
        try {
            long epoch = currentEpoch();
            parts.add(enqueue(new LinkMessage.DataSetBegin(volume, setId, extents.size(), total), 0, ACKED, epoch));
            for (Extent e : extents) {
                if (parts.stream().anyMatch(CompletableFuture::isCompletedExceptionally)) {
                    break; // refused or down: stop streaming; COMMIT still closes the set on the peer
                }
                parts.add(enqueue(new LinkMessage.DataSetExtent(setId, e.offset(), e.data()), e.data().remaining(), ACKED, epoch));
            }
            parts.add(enqueue(new LinkMessage.DataSetCommit(setId, extents.size(), crc.value()), 0, dataSetAcked(setId), epoch));
        } finally {
            setLock.unlock();
        }
        return firstFailure(parts);
    }

    /**
     * The SHA-256 of each {@code blockSize} block of {@code [offset, offset+length)} on the peer's
     * volume (the last block may be short), as {@link io.blockrep.common.link.BlockHashes} computes
     * them. At most {@link LinkMessage#MAX_HASH_BLOCKS} blocks and {@link LinkMessage#MAX_HASH_BYTES}
     * bytes per call. Fails like {@link #write}.
     */
    public CompletionStage<List<byte[]>> hashes(String volume, long offset, long length, int blockSize) {
        VolumeInfo v = volumesById.get(volume);
        if (v == null) {
            return CompletableFuture.failedFuture(new InvalidInputException("volume '" + volume + "' is not replicated on this link"));
        }
        LinkMessage.HashRequest request;
        try {
            request = new LinkMessage.HashRequest(volume, offset, length, blockSize);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(new InvalidInputException(e.getMessage()));
        }
        if (offset > v.size() || length > v.size() - offset) {
            return CompletableFuture.failedFuture(new InvalidInputException("hash range [" + offset + ", +" + length
                    + ") is outside volume '" + volume + "' (size " + v.size() + ")"));
        }
        int blocks = request.blocks();
        return enqueue(request, 0, m -> {
            if (m instanceof LinkMessage.HashReply reply && reply.digests().size() == blocks) {
                return reply.digests();
            }
            ACKED.accept(m);
            throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, "answer to HASH_REQUEST for " + blocks
                    + " blocks was " + m);
        }, ANY_SESSION);
    }

    private static Reply<Void> dataSetAcked(long setId) {
        return m -> {
            if (m instanceof LinkMessage.DataSetAck ack && ack.setId() == setId) {
                if (ack.status() != LinkStatus.OK) {
                    throw new LinkRefusedException(ack.status(), "data set " + setId + ": " + ack.message());
                }
                return null;
            }
            throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, "answer to COMMIT of data set " + setId + " was " + m);
        };
    }

    /** Succeeds when every part did; otherwise fails with the first refusal, else the first failure. */
    private static CompletionStage<Void> firstFailure(List<CompletableFuture<Void>> parts) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).whenComplete((ignored, any) -> {
            Throwable first = null;
            for (CompletableFuture<Void> p : parts) {
                Throwable t = p.handle((v, e) -> e).join();
                if (t instanceof LinkRefusedException) {
                    first = t;
                    break;
                }
                first = first == null ? t : first;
            }
            if (first == null) {
                result.complete(null);
            } else {
                result.completeExceptionally(first);
            }
        });
        return result;
    }

    private long currentEpoch() {
        lock.lock();
        try {
            return isUp() ? sessionEpoch : ANY_SESSION;
        } finally {
            lock.unlock();
        }
    }

    private <T> CompletableFuture<T> enqueue(LinkMessage message, int dataBytes, Reply<T> reply, long epoch) {
        Request<T> r = new Request<>(message.toFrame(requestIds.incrementAndGet()), dataBytes, reply);
        lock.lock();
        try {
            while (isUp() && bytesHeld > 0 && bytesHeld + r.bytes > config.queueByteCap()) {
                changed.await();
            }
            if (!isUp() || (epoch != ANY_SESSION && epoch != sessionEpoch)) {
                r.future.completeExceptionally(new LinkDownException("replication link to " + config.peer() + " is "
                        + (isUp() ? "on a new connection since this data set began" : state)));
                return r.future;
            }
            queue.add(r);
            bytesHeld += r.bytes;
            changed.signalAll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            r.future.completeExceptionally(new LinkDownException("interrupted while waiting for room in the link queue"));
        } finally {
            lock.unlock();
        }
        return r.future;
    }

    private boolean isUp() {
        return state == State.PROBATION || state == State.HEALTHY;
    }

    // ---- supervisor thread ----

    private void connect() {
        if (state() == State.CLOSED) {
            return;
        }
        Socket socket = new Socket();
        connecting = socket;
        try {
            int timeout = (int) config.connectTimeout().toMillis();
            socket.connect(new InetSocketAddress(config.peer().host(), config.peer().port()), timeout);
            socket.setSoTimeout(timeout);
            socket.setTcpNoDelay(true);
            if (config.tls() != null) {
                socket = config.tls().client(socket, config.peer().host(), config.peer().port());
            }
            InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            List<VolumeInfo> offered = List.copyOf(volumes.get());
            LinkHandshake.Outcome outcome = LinkHandshake.offer(config.nodeId(), config.secret(), offered, in, out);
            LinkMessage.Hello peer = outcome.peer();
            if (config.expectedPeerId() != null && !config.expectedPeerId().equals(peer.nodeId())) {
                throw new LinkProtocolException(LinkStatus.AUTH_FAILED, "peer at " + config.peer() + " is node '" + peer.nodeId()
                        + "', not the configured '" + config.expectedPeerId() + "' (producer.link.peer.id)");
            }
            if (socket instanceof javax.net.ssl.SSLSocket tls) {
                config.tls().checkPeerNodeId(tls, peer.nodeId());
            }
            volumesById = offered.stream().collect(Collectors.toMap(VolumeInfo::id, Function.identity()));
            lastOutcome = outcome;
            firstHandshake.complete(outcome);
            socket.setSoTimeout(0);
            boolean trusted = trustNextConnection;
            trustNextConnection = false;
            Session s = new Session(socket, in, out, new LinkHealth(config, ticker.nanos(), trusted));
            lock.lock();
            try {
                if (state == State.CLOSED) {
                    socket.close();
                    return;
                }
                session = s;
                sessionEpoch++;
                state = State.PROBATION;
            } finally {
                lock.unlock();
            }
            log.info("link to {} ({}) connected; restored after {}", peer.nodeId(), config.peer(),
                    trusted ? "the handshake (it replaces a healthy link this side dropped on purpose)" : config.damping() + " of good health");
            s.start();
            listener.onConnected();
            // The periodic tick would notice the end of the damping up to a tick late; look exactly then too.
            try {
                supervisor.schedule(this::tick, trusted ? 0 : config.damping().toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                // closed
            }
        } catch (IOException | LinkProtocolException e) {
            closeQuietly(socket);
            if (e instanceof javax.net.ssl.SSLException) {
                log.warn("link to {}: TLS refused: {}", config.peer(), e.getMessage());
            } else {
                log.info("link to {}: connect attempt failed: {}", config.peer(), e.getMessage());
            }
            listener.onLinkError("connect", String.valueOf(e.getMessage()));
            scheduleReconnect();
        } catch (VirtualMachineError e) {
            closeQuietly(socket);
            throw e;
        } catch (RuntimeException | Error e) {
            // A bug in this attempt (the offer, a check): nothing else would schedule the next one, and the link would stay down.
            closeQuietly(socket);
            log.error("link to {}: connect attempt failed unexpectedly; trying again after the backoff", config.peer(), e);
            scheduleReconnect();
        } finally {
            connecting = null;
        }
    }

    private void scheduleReconnect() {
        try {
            supervisor.schedule(this::connect, backoff.nextNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    private void tick() {
        Session s;
        String failure = null;
        boolean restored = false;
        lock.lock();
        try {
            s = session;
            if (s == null) {
                return;
            }
            long now = ticker.nanos();
            long oldest = s.inFlight.isEmpty() ? Long.MIN_VALUE : s.inFlight.values().iterator().next().sentAt;
            failure = s.health.failure(now, oldest);
            if (failure == null && s.health.pingDue(now)) {
                s.pingRequested = true;
                changed.signalAll();
            }
            if (failure == null && state == State.PROBATION && s.health.dampingPassed(now)) {
                state = State.HEALTHY;
                backoff.reset();
                restored = true;
            }
        } finally {
            lock.unlock();
        }
        if (failure != null) {
            s.fail(failure);
        } else if (restored) {
            log.info("link to {} restored", config.peer());
            notifyListener(true, null);
        }
    }

    private void notifyListener(boolean restored, String reason) {
        try {
            if (restored) {
                listener.onLinkRestored(lastOutcome);
            } else {
                listener.onLinkDown(reason);
            }
        } catch (RuntimeException e) {
            log.error("link listener failed", e);
        }
    }

    /** Fails every pending request, stops the threads and closes the socket. Idempotent. */
    @Override
    public void close() {
        Session s;
        lock.lock();
        try {
            state = State.CLOSED;
            s = session;
        } finally {
            lock.unlock();
        }
        if (s != null) {
            s.fail("link closed");
            s.join();
        }
        closeQuietly(connecting);
        supervisor.shutdownNow();
        try {
            supervisor.awaitTermination(config.connectTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                log.debug("closing link socket", e);
            }
        }
    }

    private static final class Request<T> {
        final LinkFrame frame;
        final long bytes;
        final Reply<T> reply;
        final CompletableFuture<T> future = new CompletableFuture<>();
        long sentAt;

        Request(LinkFrame frame, long bytes, Reply<T> reply) {
            this.frame = frame;
            this.bytes = bytes;
            this.reply = reply;
        }

        /** Completes from the peer's answer; a wrong kind of answer fails it and is rethrown for the session. */
        void answer(LinkMessage m) throws LinkProtocolException {
            try {
                future.complete(reply.accept(m));
            } catch (LinkRefusedException e) {
                future.completeExceptionally(e);
            } catch (LinkProtocolException e) {
                future.completeExceptionally(new LinkDownException("protocol error from the peer: " + e.getMessage()));
                throw e;
            }
        }
    }

    /** One authenticated connection and its sender and receiver threads. */
    private final class Session {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        final LinkHealth health;
        /** Sent, not yet ACKed, in send order. Guarded by the link's lock. */
        final Map<Long, Request<?>> inFlight = new LinkedHashMap<>();
        boolean pingRequested;
        boolean dead;
        final Thread sender;
        final Thread receiver;

        Session(Socket socket, InputStream in, OutputStream out, LinkHealth health) {
            this.socket = socket;
            this.in = in;
            this.out = out;
            this.health = health;
            this.sender = new Thread(this::sendLoop, "link-sender-" + config.peer());
            this.receiver = new Thread(this::receiveLoop, "link-receiver-" + config.peer());
            sender.setDaemon(true);
            receiver.setDaemon(true);
        }

        void start() {
            sender.start();
            receiver.start();
        }

        void join() {
            for (Thread t : List.of(sender, receiver)) {
                if (t.isAlive() && t != Thread.currentThread()) {
                    try {
                        t.join(5_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        private void sendLoop() {
            try {
                while (true) {
                    LinkFrame frame;
                    lock.lock();
                    try {
                        while (!dead && queue.isEmpty() && !pingRequested) {
                            changed.await();
                        }
                        if (dead) {
                            return;
                        }
                        long now = ticker.nanos();
                        if (pingRequested) {
                            pingRequested = false;
                            health.pingSent(now);
                            frame = new LinkMessage.Ping().toFrame(requestIds.incrementAndGet());
                        } else {
                            Request<?> r = queue.poll();
                            r.sentAt = now;
                            inFlight.put(r.frame.requestId(), r);
                            frame = r.frame;
                        }
                    } finally {
                        lock.unlock();
                    }
                    out.write(frame.encode());
                    out.flush();
                }
            } catch (IOException e) {
                fail("send failed: " + e.getMessage());
            } catch (InterruptedException e) {
                fail("sender interrupted");
            } catch (VirtualMachineError e) {
                throw e;
            } catch (RuntimeException | Error e) {
                // A bug: this session ends (pending requests fail, the volumes log) and the link reconnects after its backoff.
                log.error("link to {}: sender failed unexpectedly", config.peer(), e);
                fail("internal error in the sender: " + e);
            }
        }

        private void receiveLoop() {
            try {
                while (true) {
                    LinkFrame frame = LinkFrame.read(in);
                    LinkMessage m = LinkMessage.decode(frame);
                    Request<?> done = null;
                    long roundTrip = -1;
                    boolean answer = m instanceof LinkMessage.Ack || m instanceof LinkMessage.DataSetAck
                            || m instanceof LinkMessage.HashReply;
                    lock.lock();
                    try {
                        if (dead) {
                            return;
                        }
                        long now = ticker.nanos();
                        if (m instanceof LinkMessage.Pong) {
                            roundTrip = health.sinceLastPing(now);
                        }
                        health.frameReceived(now);
                        if (answer) {
                            done = inFlight.remove(frame.requestId());
                            if (done == null) {
                                throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE,
                                        m.type() + " for unknown request " + frame.requestId());
                            }
                            bytesHeld -= done.bytes;
                            changed.signalAll();
                        }
                    } finally {
                        lock.unlock();
                    }
                    if (answer) {
                        done.answer(m);
                    } else if (m instanceof LinkMessage.Error err) {
                        fail("peer sent ERROR " + err.status() + ": " + err.message());
                        return;
                    } else if (m instanceof LinkMessage.Bye bye) {
                        fail("peer said BYE: " + bye.reason());
                        return;
                    } else if (!(m instanceof LinkMessage.Pong)) {
                        throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, m.type() + " is not expected from the peer");
                    } else {
                        listener.onRoundTrip(roundTrip);
                    }
                }
            } catch (IOException e) {
                fail("receive failed: " + e.getMessage());
            } catch (LinkProtocolException e) {
                fail("protocol error from peer: " + e.getMessage());
            } catch (VirtualMachineError e) {
                throw e;
            } catch (RuntimeException | Error e) {
                log.error("link to {}: receiver failed unexpectedly", config.peer(), e);
                fail("internal error in the receiver: " + e);
            }
        }

        /** Ends this session: fails everything pending with {@link LinkDownException}, closes the socket, schedules a reconnect. */
        void fail(String reason) {
            List<Request<?>> pending = new ArrayList<>();
            boolean wasHealthy;
            boolean closing;
            lock.lock();
            try {
                if (dead) {
                    return;
                }
                dead = true;
                pending.addAll(inFlight.values());
                inFlight.clear();
                if (session == this) {
                    session = null;
                    pending.addAll(queue);
                    queue.clear();
                }
                for (Request<?> r : pending) {
                    bytesHeld -= r.bytes;
                }
                wasHealthy = state == State.HEALTHY;
                closing = state == State.CLOSED;
                if (!closing) {
                    state = State.CONNECTING;
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
            closeQuietly(socket);
            LinkDownException down = new LinkDownException("replication link to " + config.peer() + " is down: " + reason);
            pending.forEach(r -> r.future.completeExceptionally(down));
            if (closing) {
                return;
            }
            log.warn("link to {} down ({} requests failed): {}", config.peer(), pending.size(), reason);
            listener.onLinkError("session", reason);
            try {
                supervisor.execute(() -> {
                    if (wasHealthy) {
                        notifyListener(false, reason);
                    }
                    scheduleReconnect();
                });
            } catch (RejectedExecutionException e) {
                // closed meanwhile
            }
        }
    }
}
