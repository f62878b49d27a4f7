package io.blockrep.producer.nbd;

import io.blockrep.common.thread.Supervised;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server (fixed newstyle, simple replies, optional TLS via NBD_OPT_STARTTLS) serving the
 * exports of an {@link NbdExportRegistry} over TCP.
 *
 * <p>Threading model: one accept thread; per connection a reader thread and a reply writer thread
 * (see {@link NbdConnection}), so a client can block only its own threads; one watchdog thread that
 * enforces every connection's deadlines ({@link Limits}) by closing its socket. Connections beyond
 * {@link Limits#maxConnections()} get the greeting and an NBD_REP_ERR_POLICY reply that says why
 * (on one of at most {@link #MAX_REFUSALS} short-lived threads; beyond that they are closed at once),
 * and one WARN per {@link #WARN_INTERVAL} however many there are. All threads are daemon threads
 * named {@code nbd-*}.
 *
 * <p>Failures: the acceptor survives any failure of an accept or of admitting a connection, {@link Error}s
 * included (a connection's direct buffers or its thread that cannot be allocated under memory
 * pressure): that connection is closed, the failure logged at ERROR, and it accepts again after a backoff
 * of 100 ms doubling to {@value #MAX_ACCEPT_BACKOFF_MILLIS} ms, so a burst of clients cannot leave the
 * volumes with nobody taking connections. Why heal and not exit: the failure is local to one
 * connection, and exiting would cut every client already served. Only a listening socket closed under
 * the acceptor (nothing can accept any more) ends it, by an exception the process's backstop turns into
 * an exit ({@code FatalExit}). A connection's own failure ends that connection only ({@link NbdConnection}).
 *
 * <p>Lifecycle: {@link #start()} binds and starts accepting; {@link #close()} stops accepting,
 * closes every connection and waits for their threads to end. Requests in flight when the
 * server closes get no reply; the exports are not closed (the caller owns them). Thread-safe.
 */
public final class NbdServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
    private static final long JOIN_MILLIS = 10_000;
    static final int MAX_REFUSALS = 4;
    static final Duration WARN_INTERVAL = Duration.ofMinutes(1);
    static final long MAX_ACCEPT_BACKOFF_MILLIS = 5_000;

    /**
     * Per-connection limits.
     *
     * @param maxConnections   connections served at once; more are refused
     * @param handshakeTimeout longest negotiation (greeting to export chosen, TLS included)
     * @param idleTimeout      a session with nothing in flight and no request for this long is closed; zero = never
     * @param replyTimeout     a client that takes no reply bytes for this long is disconnected
     */
    public record Limits(int maxConnections, Duration handshakeTimeout, Duration idleTimeout, Duration replyTimeout) {
        public static final int DEFAULT_MAX_CONNECTIONS = 64;
        public static final Limits DEFAULT = new Limits(DEFAULT_MAX_CONNECTIONS, Duration.ofSeconds(10),
                Duration.ofMinutes(5), Duration.ofSeconds(30));

        public Limits {
            Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
            Objects.requireNonNull(idleTimeout, "idleTimeout");
            Objects.requireNonNull(replyTimeout, "replyTimeout");
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be positive, got " + maxConnections);
            }
            if (handshakeTimeout.isNegative() || handshakeTimeout.isZero() || replyTimeout.isNegative() || replyTimeout.isZero()
                    || idleTimeout.isNegative()) {
                throw new IllegalArgumentException("handshake and reply timeouts must be positive, the idle timeout not negative");
            }
        }

        /** The watchdog's period: a quarter of the shortest deadline, between 20 ms and 1 s. */
        Duration tick() {
            long shortest = Math.min(handshakeTimeout.toMillis(), replyTimeout.toMillis());
            if (!idleTimeout.isZero()) {
                shortest = Math.min(shortest, idleTimeout.toMillis());
            }
            return Duration.ofMillis(Math.max(20, Math.min(1000, shortest / 4)));
        }
    }

    /**
     * How to run a server.
     *
     * @param host     address to bind; loopback unless clients are remote
     * @param port     TCP port; 0 picks a free one (see {@link NbdServer#port()})
     * @param registry where exports are looked up
     * @param limits   connection cap and deadlines
     * @param tls      TLS settings; null = no TLS (NBD_OPT_STARTTLS is refused)
     */
    public record Config(String host, int port, NbdExportRegistry registry, Limits limits, NbdTls tls, NbdRequestMeters meters) {
        public static final String DEFAULT_HOST = "127.0.0.1";
        public static final int DEFAULT_MAX_CONNECTIONS = Limits.DEFAULT_MAX_CONNECTIONS;

        public Config {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(registry, "registry");
            Objects.requireNonNull(limits, "limits");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0-65535, got " + port);
            }
            meters = meters == null ? NbdRequestMeters.NONE : meters;
        }

        /** Not metered. */
        public Config(String host, int port, NbdExportRegistry registry, Limits limits, NbdTls tls) {
            this(host, port, registry, limits, tls, NbdRequestMeters.NONE);
        }

        /** Loopback, an ephemeral port, the default limits, no TLS. */
        public static Config of(NbdExportRegistry registry) {
            return new Config(DEFAULT_HOST, 0, registry, Limits.DEFAULT, null);
        }

        public Config withLimits(Limits newLimits) {
            return new Config(host, port, registry, newLimits, tls, meters);
        }

        public Config withTls(NbdTls newTls) {
            return new Config(host, port, registry, limits, newTls, meters);
        }

        /** Every answered request told to {@code newMeters}. */
        public Config withMeters(NbdRequestMeters newMeters) {
            return new Config(host, port, registry, limits, tls, newMeters);
        }
    }

    private final Config config;
    /** Makes the connection threads: the seam a test uses to make admitting a connection fail. */
    private final ThreadFactory connectionThreads;
    private final Map<NbdConnection, Thread> connections = new ConcurrentHashMap<>();
    private final AtomicLong connectionIds = new AtomicLong();
    private final AtomicInteger refusals = new AtomicInteger();
    private final RateLimitedWarning refusedWarning = new RateLimitedWarning(log, WARN_INTERVAL, System::nanoTime);
    private final RateLimitedWarning deadlineWarning = new RateLimitedWarning(log, WARN_INTERVAL, System::nanoTime);
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "nbd-watchdog");
        t.setDaemon(true);
        return t;
    });
    private ServerSocketChannel listener;
    private Thread acceptor;
    private volatile boolean closed;

    public NbdServer(Config config) {
        this(config, Thread::new);
    }

    NbdServer(Config config, ThreadFactory connectionThreads) {
        this.config = Objects.requireNonNull(config, "config");
        this.connectionThreads = connectionThreads;
    }

    /** Binds the listening socket and starts accepting connections. */
    public synchronized void start() throws IOException {
        if (listener != null || closed) {
            throw new IllegalStateException("server already started or closed");
        }
        ServerSocketChannel ch = ServerSocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(new InetSocketAddress(config.host(), config.port()), 128);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        listener = ch;
        acceptor = new Thread(this::acceptLoop, "nbd-accept-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
        long tick = config.limits().tick().toMillis();
        watchdog.scheduleWithFixedDelay(this::enforceDeadlines, tick, tick, TimeUnit.MILLISECONDS);
        log.info("NBD server listening on {}:{}{}", config.host(), port(), config.tls() == null ? "" : ", " + config.tls());
    }

    /** The bound port; after {@link #start()}. */
    public synchronized int port() {
        if (listener == null) {
            throw new IllegalStateException("server not started");
        }
        return ((InetSocketAddress) listener.socket().getLocalSocketAddress()).getPort();
    }

    /** Connections currently open; for tests. */
    int connectionCount() {
        return connections.size();
    }

    /** How many client connections negotiated {@code export} while it was writable and are still open. */
    public int writableClients(String export) {
        return (int) connections.keySet().stream().filter(c -> c.holdsWritable(export)).count();
    }

    private void acceptLoop() {
        long backoffMillis = 0;
        while (!closed) {
            SocketChannel ch = null;
            try {
                ch = listener.accept();
                admit(ch);
                backoffMillis = 0;
            } catch (ClosedChannelException e) {
                if (closed) {
                    return;
                }
                throw new IllegalStateException("NBD listening socket closed under the acceptor; no client can connect", e);
            } catch (Throwable e) {
                if (ch != null) {
                    closeQuietly(ch);
                }
                if (closed) {
                    return;
                }
                backoffMillis = Math.min(MAX_ACCEPT_BACKOFF_MILLIS, Math.max(100, backoffMillis * 2));
                log.error("NBD accept failed; accepting again in {} ms", backoffMillis, e);
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private void admit(SocketChannel ch) {
        long id = connectionIds.incrementAndGet();
        String peer = "nbd#" + id + " " + remote(ch);
        int max = config.limits().maxConnections();
        if (closed || connections.size() >= max) {
            refuse(ch, peer, max);
            return;
        }
        try {
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException e) {
            log.warn("{}: cannot set up connection: {}", peer, e.toString());
            closeQuietly(ch);
            return;
        }
        NbdConnection connection = new NbdConnection(ch, config.registry(), peer, config.limits(), config.tls(), config.meters());
        Thread thread;
        try {
            thread = connectionThreads.newThread(() -> {
                try {
                    connection.run();
                } finally {
                    connections.remove(connection);
                }
            });
            thread.setName("nbd-conn-" + id);
            thread.setDaemon(true);
            connections.put(connection, thread);
            if (closed) {
                // close() may have swept the map before this connection was added.
                connection.close();
            }
            thread.start();
        } catch (Throwable e) {
            connections.remove(connection);
            connection.close();
            throw e;
        }
    }

    private void refuse(SocketChannel ch, String peer, int max) {
        String reason = closed ? "server shutting down"
                : "too many connections: " + max + " already open (producer.nbd.max.connections)";
        refusedWarning.warn("{}: refused, {}", peer, reason);
        if (closed || refusals.incrementAndGet() > MAX_REFUSALS) {
            refusals.decrementAndGet();
            closeQuietly(ch);
            return;
        }
        Thread t = new Thread(() -> {
            try {
                new RefusedConnection(ch, peer, reason).run();
            } finally {
                refusals.decrementAndGet();
            }
        }, "nbd-refuse-" + connectionIds.get());
        t.setDaemon(true);
        t.start();
    }

    /** The watchdog: closes every connection past one of its deadlines. Never blocks (closing a socket does not). */
    private void enforceDeadlines() {
        try {
            long now = System.nanoTime();
            for (NbdConnection c : connections.keySet()) {
                String reason = c.expired(now);
                if (reason == null) {
                    continue;
                }
                if (reason.startsWith("no export chosen")) {
                    log.debug("{}: closing: {}", c.peer(), reason);
                    deadlineWarning.warn("{}: closed, {}", c.peer(), reason);
                } else {
                    log.info("{}: closing: {}", c.peer(), reason);
                }
                c.close();
            }
        } catch (VirtualMachineError e) {
            Supervised.escalate(e); // an executor would keep it in a future: handed to the process's backstop
        } catch (RuntimeException | Error e) {
            // Not rethrown: the executor would cancel the schedule, and no deadline would be enforced again.
            log.error("NBD watchdog check failed; checking again at the next tick", e);
        }
    }

    /** Stops accepting, closes every connection and waits for the server's threads to end. */
    @Override
    public void close() {
        Thread accept;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            accept = acceptor;
            if (listener != null) {
                closeQuietly(listener);
            }
        }
        join(accept);
        watchdog.shutdownNow();
        connections.keySet().forEach(NbdConnection::close);
        connections.values().forEach(NbdServer::join);
        log.info("NBD server on {} closed", config.host());
    }

    private static void join(Thread t) {
        if (t == null) {
            return;
        }
        try {
            t.join(JOIN_MILLIS);
            if (t.isAlive()) {
                log.warn("{} did not stop within {} ms", t.getName(), JOIN_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String remote(SocketChannel ch) {
        try {
            return String.valueOf(ch.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            log.debug("close failed: {}", e.toString());
        }
    }
}
