package io.blockrep.producer.link;

import io.blockrep.common.FatalException;
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
 * Before a server is started, the facility runs {@code DataSetJournal.recover} on every volume so a
 * set a crash interrupted is settled (re-applied whole or discarded) before anything is served.
 */
public final class LinkServer implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(LinkServer.class);

    private final LinkServerConfig config;
    private final LinkVolumes volumes;
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<ServerConnection> connections = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean closed;

    private LinkServer(LinkServerConfig config, LinkVolumes volumes, ServerSocket server) {
        this.config = config;
        this.volumes = volumes;
        this.server = server;
        this.acceptor = new Thread(this::acceptLoop, "link-server-accept-" + server.getLocalPort());
        this.acceptor.setDaemon(true);
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
        LinkServer s = new LinkServer(config, volumes, server);
        s.acceptor.start();
        log.info("link server {} listening on {}", config.nodeId(), s.address());
        return s;
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

    private void acceptLoop() {
        while (!closed) {
            Socket socket;
            try {
                socket = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.error("link server accept failed; no new connections will be taken", e);
                }
                return;
            }
            ServerConnection c = new ServerConnection(socket, config, volumes, connections::remove);
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
        }
    }

    /** Stops accepting, closes every connection and waits for their threads. */
    @Override
    public void close() {
        closed = true;
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
