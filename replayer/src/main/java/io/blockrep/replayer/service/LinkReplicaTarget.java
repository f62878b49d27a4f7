package io.blockrep.replayer.service;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkClient;
import io.blockrep.common.link.LinkTls;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.replayer.copy.ReplicaTarget;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A replica (the target node of a step, SECONDARY for the volume) reached over the link with
 * blocking {@link LinkClient}s; one per volume and target node. Data sets go out on
 * {@link #SENDERS} sender threads, each with its own connection, so one set can be sent while the
 * secondary applies another (its server applies each connection's sets in order, on its own
 * thread), each applied straight to the volume (DIRECT). Hash requests use the caller's connection. A client attaches the volume with the geometry
 * learnt from the dirty records, so all connections are remade when that changes.
 *
 * <p>Thread-safety: each {@link LinkClient} is confined to one thread; {@link #attach} and
 * {@link #close} may be called from the copier's thread at any time.
 */
final class LinkReplicaTarget implements ReplicaTarget, AutoCloseable {
    static final int SENDERS = 2;

    private final String nodeId;
    private final HostPort peer;
    private final SharedSecret secret;
    private final Duration timeout;
    private final ExecutorService senders;
    private final List<LinkClient> senderClients = new CopyOnWriteArrayList<>();
    private final ThreadLocal<Attached> senderClient = new ThreadLocal<>();
    private volatile Attached attached;
    private LinkClient hashClient;
    private final LinkTls tls;

    /** A geometry and the attach list made from it; identity tells connections made for it. */
    private record Attached(String volume, RegionGeometry geometry, LinkClient client) {
    }

    LinkReplicaTarget(String nodeId, HostPort peer, SharedSecret secret, Duration timeout, LinkTls tls) {
        this.tls = tls;
        this.nodeId = nodeId;
        this.peer = peer;
        this.secret = secret;
        this.timeout = timeout;
        this.senders = Executors.newFixedThreadPool(SENDERS, r -> {
            Thread t = new Thread(r, "replay-sender-" + peer);
            t.setDaemon(true);
            return t;
        });
    }

    /** Attaches with the volume's geometry; a changed geometry makes new connections. */
    @Override
    public synchronized void attach(String volume, RegionGeometry geometry) {
        Attached current = attached;
        if (current == null || !current.geometry().equals(geometry) || !current.volume().equals(volume)) {
            closeClients();
            hashClient = newClient(volume, geometry);
            attached = new Attached(volume, geometry, hashClient);
        }
    }

    private LinkClient newClient(String volume, RegionGeometry geometry) {
        return new LinkClient(nodeId, peer, secret,
                List.of(new VolumeInfo(volume, geometry.size(), geometry.regionSize(), Role.PRIMARY, List.of())), timeout, tls);
    }

    @Override
    public CompletionStage<Void> sendDataSet(String volume, long setId, List<ExtentData> extents) {
        Attached target = attached;
        if (target == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("volume geometry unknown: no dirty record seen yet"));
        }
        List<LinkClient.Extent> frames = extents.stream().map(e -> new LinkClient.Extent(e.offset(), e.data())).toList();
        // DIRECT: the replica applies the extents as they arrive, without journaling them first. Every copy the
        // replayer makes is onto a copy marked inconsistent from its first data set until the copy ends, and a set
        // not acknowledged is sent again, so the journal's per-set atomicity bought nothing there but a second write
        // of every byte (see DataSetReceiver).
        return CompletableFuture.runAsync(() -> senderClient(target).sendDataSet(volume, setId, frames, true), senders);
    }

    /** This sender thread's connection for {@code target}, made on first use. */
    private LinkClient senderClient(Attached target) {
        Attached mine = senderClient.get();
        if (mine == null || mine.geometry() != target.geometry() || !mine.volume().equals(target.volume())) {
            if (mine != null) {
                mine.client().close();
                senderClients.remove(mine.client());
            }
            mine = new Attached(target.volume(), target.geometry(), newClient(target.volume(), target.geometry()));
            senderClient.set(mine);
            senderClients.add(mine.client());
        }
        return mine.client();
    }

    @Override
    public synchronized CompletionStage<List<byte[]>> hashes(String volume, long offset, long length, int blockSize) {
        try {
            return CompletableFuture.completedFuture(hashClient().hashes(volume, offset, length, blockSize));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public synchronized CompletionStage<List<List<byte[]>>> hashes(String volume, List<long[]> ranges, int blockSize) {
        try {
            return CompletableFuture.completedFuture(hashClient().hashes(volume,
                    ranges.stream().map(r -> new LinkClient.HashRange(r[0], r[1], blockSize)).toList()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private LinkClient hashClient() {
        if (hashClient == null) {
            throw new IllegalStateException("volume geometry unknown: no dirty record seen yet");
        }
        return hashClient;
    }

    private void closeClients() {
        if (hashClient != null) {
            hashClient.close();
            hashClient = null;
        }
        // Sender threads notice the new geometry and replace their own connections; the old ones are closed here too.
        for (LinkClient c : senderClients) {
            c.close();
        }
        senderClients.clear();
        attached = null;
    }

    @Override
    public synchronized void close() {
        senders.shutdownNow();
        closeClients();
    }
}
