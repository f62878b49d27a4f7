package io.blockrep.producer.link;

import io.blockrep.common.FatalException;
import io.blockrep.common.thread.Supervised;
import io.blockrep.common.link.LinkMessage;
import io.blockrep.common.link.LinkStatus;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The secondary side of the replication link: accepts connections from primaries and applies
 * their writes to local volumes.
 *
 * <p>Threading: one acceptor thread, and one reader thread per connection that reads, verifies
 * and applies that connection's frames strictly in order and writes the replies itself, so a
 * connection's socket is only ever touched by its own thread (and by {@link #close()}, which only
 * closes it). Invariants, per connection ({@link ServerConnection}):
 * <ul>
 *   <li>nothing but the challenge-response is accepted before the peer proved the secret;
 *   <li>no WRITE or FLUSH before HELLO attached the volume, and only while this side is SECONDARY
 *       for it (re-checked on every frame);
 *   <li>a frame's whole payload is read and its CRC verified before any byte of it is written;
 *   <li>a bad frame or a session-level violation is answered with ERROR and the connection closed;
 *       a write outside the volume gets a negative ACK and the connection stays up;
 *   <li>a failure of this side's storage (a WRITE, FLUSH, data set journal or apply failing with an
 *       I/O error, ENOSPC included) gets a negative ACK / DATASET_ACK of status IO_ERROR, so the
 *       sender's stage for that request fails, and then ERROR and close: the primary's link goes
 *       down, it logs, and its next healthy connection resyncs (see {@link ServerConnection});
 *   <li>the first data set of a resync marks the copy inconsistent durably before anything of it
 *       is journaled ({@link LinkVolumes#resyncBegun});
 *   <li>an ACK for a FUA write or a FLUSH is sent only after the volume was flushed;
 *   <li>data sets ({@link DataSetReceiver}) get the same checks as WRITE on BEGIN and every EXTENT
 *       and COMMIT; a set takes effect at its COMMIT's place in the connection's order, whole or
 *       not at all: journal flushed before the volume is touched, volume flushed and journal deleted
 *       before DATASET_ACK OK; a connection that ends inside a set discards it;
 *   <li>HASH_REQUEST and READ_REQUEST are answered for any volume this side has, in either role,
 *       attached or not (verify hashes the source and the replica, the replayer reads its source);
 *       a READ gets all the requested bytes or an error status and none, never a partial read.
 * </ul>
 * Before authentication (see {@link ServerConnection}): no frame above
 * {@link io.blockrep.common.link.LinkFrame#PRE_AUTH_MAX_PAYLOAD} is read; at most
 * {@link LinkServerConfig#maxUnauthenticated()} connections may be in their handshake at once (more
 * are refused at accept, with an ERROR when the port is plaintext, and a WARN at most every
 * {@value #REFUSAL_LOG_INTERVAL_SECONDS} s); and a <em>watchdog</em> thread closes a connection whose whole
 * handshake has not finished {@link LinkServerConfig#handshakeTimeout()} after its accept, however
 * slowly it trickles bytes. The acceptor survives any failure, {@link Error}s included: it logs,
 * backs off (100 ms doubling to {@value #MAX_ACCEPT_BACKOFF_MILLIS} ms) and accepts again; only its listening
 * socket closed under it (not by {@link #close}) ends it, with an exception the process's backstop turns
 * into an exit. A connection's unexpected failure ends that connection only ({@link ServerConnection}).
 *
 * <p>With {@link LinkServerConfig#tls()} every connection runs mutual TLS first, on its own thread;
 * the HMAC challenge then runs inside the TLS session.
 *
 * <p>Before a server is started, the facility runs {@code DataSetJournal.recover} on every volume so a
 * set a crash interrupted is settled (re-applied whole or discarded) before anything is served.
 */
public final class LinkServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(LinkServer.class);
    static final long MAX_ACCEPT_BACKOFF_MILLIS = 5_000;
    static final long REFUSAL_LOG_INTERVAL_SECONDS = 10;

    private final LinkServerConfig config;
    private final LinkVolumes volumes;
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<ServerConnection> connections = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new ArrayList<>();
    private final ScheduledExecutorService watchdog;
    private volatile boolean closed;
    private long refusedSinceLog;
    private long lastRefusalLogNanos;

    private LinkServer(LinkServerConfig config, LinkVolumes volumes, ServerSocket server) {
        this.config = config;
        this.volumes = volumes;
        this.server = server;
        this.acceptor = new Thread(this::acceptLoop, "link-server-accept-" + server.getLocalPort());
        this.acceptor.setDaemon(true);
        ScheduledThreadPoolExecutor w = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "link-server-watchdog-" + server.getLocalPort());
            t.setDaemon(true);
            return t;
        });
        w.setRemoveOnCancelPolicy(true);
        this.watchdog = w;
    }

    /** Starts accepting on an already bound {@code server} socket: the seam a test uses to make accept fail. */
    static LinkServer start(LinkServerConfig config, LinkVolumes volumes, ServerSocket server) {
        LinkServer s = new LinkServer(config, volumes, server);
        s.acceptor.start();
        log.info("link server {} listening on {}{}", config.nodeId(), s.address(), config.tls() == null ? "" : " (TLS)");
        return s;
    }

    /** Binds the listen address and starts accepting. */
    public static LinkServer start(LinkServerConfig config, LinkVolumes volumes) {
        ServerSocket server;
        try {
            server = new ServerSocket(config.port(), 50, InetAddress.getByName(config.host()));
        } catch (IOException e) {
            throw new FatalException("link server cannot listen on " + config.host() + ":" + config.port()
                    + ": " + e.getMessage(), e);
        }
        return start(config, volumes, server);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Connections currently open (authenticated or not). */
    public int connectionCount() {
        return connections.size();
    }

    /** True while an authenticated connection from node {@code nodeId} is open (a replayer's connections have other ids). */
    public boolean connectedFrom(String nodeId) {
        return connections.stream().anyMatch(c -> nodeId.equals(c.peer()));
    }

    /** Connections still in their handshake. */
    int unauthenticatedCount() {
        return (int) connections.stream().filter(ServerConnection::inHandshake).count();
    }

    private void acceptLoop() {
        long backoffMillis = 0;
        while (!closed) {
            try {
                Socket socket = server.accept();
                backoffMillis = 0;
                admit(socket);
            } catch (Throwable e) {
                if (closed) {
                    return;
                }
                if (server.isClosed()) {
                    // Nothing can accept any more: a secondary nobody can reach. Not healed here (rebinding could take a
                    // port another process took meanwhile); the process's backstop (FatalExit) logs it and exits non-zero.
                    throw new IllegalStateException("link server socket closed under the acceptor; no new connections can be taken", e);
                }
                backoffMillis = Math.min(MAX_ACCEPT_BACKOFF_MILLIS, Math.max(100, backoffMillis * 2));
                log.error("link server accept failed; accepting again in {} ms", backoffMillis, e);
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Starts a connection's thread and its handshake deadline, or refuses it when the handshake cap is reached. */
    private void admit(Socket socket) {
        if (unauthenticatedCount() >= config.maxUnauthenticated()) {
            refuse(socket);
            return;
        }
        ServerConnection c = new ServerConnection(socket, config, volumes, connections::remove);
        try {
            connections.add(c);
            Thread t = new Thread(c, "link-server-conn-" + socket.getPort());
            t.setDaemon(true);
            synchronized (threads) {
                threads.removeIf(x -> !x.isAlive());
                threads.add(t);
            }
            if (closed) {
                c.close();
            }
            t.start();
            watchdog.schedule(Supervised.guarded("link handshake deadline", c::handshakeDeadlinePassed,
                    e -> log.error("link server: closing a connection past its handshake deadline failed", e)),
                    config.handshakeTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            c.close(); // closing
        } catch (Throwable e) {
            connections.remove(c);
            c.close();
            throw e;
        }
    }

    /**
     * Past the cap: a plaintext port answers with an ERROR (a fresh socket's send buffer takes it
     * without blocking); a TLS port just closes, having no session to speak in.
     */
    private void refuse(Socket socket) {
        try (socket) {
            if (config.tls() == null) {
                new LinkMessage.Error(LinkStatus.SHUTTING_DOWN, "too many unauthenticated link connections (at most "
                        + config.maxUnauthenticated() + "); try again later").writeFrame(socket.getOutputStream(), 0);
                socket.getOutputStream().flush();
                socket.shutdownOutput();
                // What the peer already sent is discarded, so that the close sends FIN, not a reset that could beat the ERROR.
                socket.getInputStream().skipNBytes(Math.min(socket.getInputStream().available(), 1 << 16));
            }
        } catch (IOException e) {
            log.debug("refusing a link connection", e);
        }
        refusedSinceLog++;
        long now = System.nanoTime();
        if (lastRefusalLogNanos == 0 || now - lastRefusalLogNanos > TimeUnit.SECONDS.toNanos(REFUSAL_LOG_INTERVAL_SECONDS)) {
            log.warn("link server refused {} connection(s): {} connections are already in their handshake (producer.link.unauthenticated.max)",
                    refusedSinceLog, config.maxUnauthenticated());
            refusedSinceLog = 0;
            lastRefusalLogNanos = now;
        }
    }

    /** Stops accepting, closes every connection and waits for their threads. */
    @Override
    public void close() {
        closed = true;
        watchdog.shutdownNow();
        try {
            server.close();
        } catch (IOException e) {
            log.debug("closing link server socket", e);
        }
        for (ServerConnection c : connections) {
            c.close();
        }
        List<Thread> all;
        synchronized (threads) {
            all = new ArrayList<>(threads);
        }
        all.add(acceptor);
        for (Thread t : all) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
