package io.blockrep.producer.nbd;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server (fixed newstyle, simple replies) serving the exports of an
 * {@link NbdExportRegistry} over TCP.
 *
 * <p>Threading model: one accept thread, and one reader thread per connection (see
 * {@link NbdConnection}; replies are written by whichever thread completes an export operation).
 * Connections beyond {@link Config#maxConnections()} are accepted and closed at once. All threads
 * are daemon threads named {@code nbd-*}.
 *
 * <p>Lifecycle: {@link #start()} binds and starts accepting; {@link #close()} stops accepting,
 * closes every connection and waits for their threads to end. Requests in flight when the
 * server closes get no reply; the exports are not closed (the caller owns them). Thread-safe.
 */
public final class NbdServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
    private static final long JOIN_MILLIS = 10_000;

    /**
     * How to run a server.
     *
     * @param host           address to bind; loopback unless clients are remote
     * @param port           TCP port; 0 picks a free one (see {@link NbdServer#port()})
     * @param maxConnections connections served at once; more are refused
     * @param registry       where exports are looked up
     */
    public record Config(String host, int port, int maxConnections, NbdExportRegistry registry) {
        public static final String DEFAULT_HOST = "127.0.0.1";
        public static final int DEFAULT_MAX_CONNECTIONS = 64;

        public Config {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(registry, "registry");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0-65535, got " + port);
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be positive, got " + maxConnections);
            }
        }

        /** Loopback, an ephemeral port, {@value #DEFAULT_MAX_CONNECTIONS} connections. */
        public static Config of(NbdExportRegistry registry) {
            return new Config(DEFAULT_HOST, 0, DEFAULT_MAX_CONNECTIONS, registry);
        }
    }

    private final Config config;
    private final Map<NbdConnection, Thread> connections = new ConcurrentHashMap<>();
    private final AtomicLong connectionIds = new AtomicLong();
    private ServerSocketChannel listener;
    private Thread acceptor;
    private volatile boolean closed;

    public NbdServer(Config config) {
        this.config = Objects.requireNonNull(config, "config");
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
        log.info("NBD server listening on {}:{}", config.host(), port());
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
        while (!closed) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    log.warn("accept failed", e);
                }
                continue;
            }
            admit(ch);
        }
    }

    private void admit(SocketChannel ch) {
        String peer = "nbd#" + connectionIds.incrementAndGet() + " " + remote(ch);
        try {
            if (closed || connections.size() >= config.maxConnections()) {
                log.warn("{}: refused, {} connections already open", peer, connections.size());
                ch.close();
                return;
            }
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException e) {
            log.warn("{}: cannot set up connection: {}", peer, e.toString());
            closeQuietly(ch);
            return;
        }
        NbdConnection connection = new NbdConnection(ch, config.registry(), peer);
        Thread thread = new Thread(() -> {
            try {
                connection.run();
            } finally {
                connections.remove(connection);
            }
        }, "nbd-conn-" + connectionIds.get());
        thread.setDaemon(true);
        connections.put(connection, thread);
        if (closed) {
            // close() may have swept the map before this connection was added.
            connection.close();
        }
        thread.start();
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
