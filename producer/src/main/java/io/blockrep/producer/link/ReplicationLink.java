package io.blockrep.producer.link;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.link.LinkFrame;
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
 * ACKs to requests by request id. Callers of {@link #write} and {@link #flush} only enqueue; they
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
 *   <li>the backoff grows with every failed or flapping connection and resets only on restore.
 * </ul>
 * Stages complete on link threads; dependent actions that block should use the async variants.
 */
public final class ReplicationLink implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ReplicationLink.class);

    /** Connection state; writes are accepted in PROBATION and HEALTHY. */
    public enum State { CONNECTING, PROBATION, HEALTHY, CLOSED }

    private final LinkConfig config;
    private final List<VolumeInfo> volumes;
    private final Map<String, VolumeInfo> volumesById;
    private final LinkListener listener;
    private final Ticker ticker;
    private final ScheduledExecutorService supervisor;
    private final Backoff backoff;
    private final AtomicLong requestIds = new AtomicLong();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private State state = State.CONNECTING;
    private Session session;
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
    private long bytesHeld;
    private volatile Socket connecting;

    /**
     * @param volumes the volumes this side is PRIMARY for and replicates; each must attach on the
     *                peer or the connection is not used
     */
    public ReplicationLink(LinkConfig config, List<VolumeInfo> volumes, LinkListener listener, Ticker ticker) {
        this.config = config;
        this.volumes = List.copyOf(volumes);
        this.volumesById = this.volumes.stream().collect(Collectors.toMap(VolumeInfo::id, Function.identity()));
        this.listener = listener;
        this.ticker = ticker;
        this.backoff = new Backoff(config.backoffMin(), config.backoffMax());
        this.supervisor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "link-supervisor-" + config.peer());
            t.setDaemon(true);
            return t;
        });
    }

    public ReplicationLink(LinkConfig config, List<VolumeInfo> volumes, LinkListener listener) {
        this(config, volumes, listener, Ticker.system());
    }

    /** Starts connecting in the background and the health tick. */
    public void start() {
        long tick = Math.max(1_000_000L, Math.min(config.heartbeatInterval().toNanos(),
                Math.min(config.ackTimeout().toNanos(), config.damping().toNanos())) / 4);
        supervisor.execute(this::connect);
        supervisor.scheduleAtFixedRate(this::tick, tick, tick, TimeUnit.NANOSECONDS);
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
        return enqueue(new LinkMessage.Write(volume, offset, fua, data), length);
    }

    /** Asks the peer to make every write it acknowledged on {@code volume} durable. */
    public CompletionStage<Void> flush(String volume) {
        if (!volumesById.containsKey(volume)) {
            return CompletableFuture.failedFuture(new InvalidInputException("volume '" + volume + "' is not replicated on this link"));
        }
        return enqueue(new LinkMessage.Flush(volume), 0);
    }

    private CompletionStage<Void> enqueue(LinkMessage message, int dataBytes) {
        Request r = new Request(message.toFrame(requestIds.incrementAndGet()), dataBytes);
        lock.lock();
        try {
            while (isUp() && bytesHeld > 0 && bytesHeld + r.bytes > config.queueByteCap()) {
                changed.await();
            }
            if (!isUp()) {
                r.future.completeExceptionally(new LinkDownException("replication link to " + config.peer() + " is " + state));
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
            InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
            LinkMessage.Hello peer = ClientHandshake.run(config, volumes, in, out);
            socket.setSoTimeout(0);
            Session s = new Session(socket, in, out, new LinkHealth(config, ticker.nanos()));
            lock.lock();
            try {
                if (state == State.CLOSED) {
                    socket.close();
                    return;
                }
                session = s;
                state = State.PROBATION;
            } finally {
                lock.unlock();
            }
            log.info("link to {} ({}) connected; restored after {} of good health", peer.nodeId(), config.peer(), config.damping());
            s.start();
        } catch (IOException | LinkProtocolException e) {
            closeQuietly(socket);
            log.info("link to {}: connect attempt failed: {}", config.peer(), e.getMessage());
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
                listener.onLinkRestored();
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

    private static final class Request {
        final LinkFrame frame;
        final long bytes;
        final CompletableFuture<Void> future = new CompletableFuture<>();
        long sentAt;

        Request(LinkFrame frame, long bytes) {
            this.frame = frame;
            this.bytes = bytes;
        }
    }

    /** One authenticated connection and its sender and receiver threads. */
    private final class Session {
        final Socket socket;
        final InputStream in;
        final OutputStream out;
        final LinkHealth health;
        /** Sent, not yet ACKed, in send order. Guarded by the link's lock. */
        final Map<Long, Request> inFlight = new LinkedHashMap<>();
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
                            Request r = queue.poll();
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
            }
        }

        private void receiveLoop() {
            try {
                while (true) {
                    LinkFrame frame = LinkFrame.read(in);
                    LinkMessage m = LinkMessage.decode(frame);
                    Request done = null;
                    lock.lock();
                    try {
                        if (dead) {
                            return;
                        }
                        health.frameReceived(ticker.nanos());
                        if (m instanceof LinkMessage.Ack) {
                            done = inFlight.remove(frame.requestId());
                            if (done == null) {
                                throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE,
                                        "ACK for unknown request " + frame.requestId());
                            }
                            bytesHeld -= done.bytes;
                            changed.signalAll();
                        }
                    } finally {
                        lock.unlock();
                    }
                    if (m instanceof LinkMessage.Ack ack) {
                        if (ack.status() == LinkStatus.OK) {
                            done.future.complete(null);
                        } else {
                            done.future.completeExceptionally(new LinkRefusedException(ack.status(), ack.message()));
                        }
                    } else if (m instanceof LinkMessage.Error err) {
                        fail("peer sent ERROR " + err.status() + ": " + err.message());
                        return;
                    } else if (m instanceof LinkMessage.Bye bye) {
                        fail("peer said BYE: " + bye.reason());
                        return;
                    } else if (!(m instanceof LinkMessage.Pong)) {
                        throw new LinkProtocolException(LinkStatus.UNEXPECTED_MESSAGE, m.type() + " is not expected from the peer");
                    }
                }
            } catch (IOException e) {
                fail("receive failed: " + e.getMessage());
            } catch (LinkProtocolException e) {
                fail("protocol error from peer: " + e.getMessage());
            }
        }

        /** Ends this session: fails everything pending with {@link LinkDownException}, closes the socket, schedules a reconnect. */
        void fail(String reason) {
            List<Request> pending = new ArrayList<>();
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
                for (Request r : pending) {
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
