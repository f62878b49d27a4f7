package io.blockrep.replayer.service;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkClient;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.replayer.copy.ReplicaTarget;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A secondary reached over the link with a blocking {@link LinkClient}. The client attaches the
 * volume with the geometry learnt from the dirty records, so it is (re)made whenever that changes.
 * Calls run on the caller's thread; one caller at a time.
 */
final class LinkReplicaTarget implements ReplicaTarget, AutoCloseable {
    private final String nodeId;
    private final HostPort peer;
    private final SharedSecret secret;
    private final Duration timeout;
    private LinkClient client;
    private RegionGeometry attached;

    LinkReplicaTarget(String nodeId, HostPort peer, String secret, Duration timeout) {
        this.nodeId = nodeId;
        this.peer = peer;
        this.secret = SharedSecret.of(secret);
        this.timeout = timeout;
    }

    /** Attaches with the volume's geometry; a changed geometry makes a new connection. */
    @Override
    public synchronized void attach(String volume, RegionGeometry geometry) {
        if (!geometry.equals(attached)) {
            close();
            attached = geometry;
            client = new LinkClient(nodeId, peer, secret,
                    List.of(new VolumeInfo(volume, geometry.size(), geometry.regionSize(), Role.PRIMARY, List.of())), timeout);
        }
    }

    @Override
    public synchronized CompletionStage<Void> sendDataSet(String volume, long setId, List<ExtentData> extents) {
        try {
            client().sendDataSet(volume, setId, extents.stream().map(e -> new LinkClient.Extent(e.offset(), e.data())).toList());
            return CompletableFuture.completedFuture(null);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public synchronized CompletionStage<List<byte[]>> hashes(String volume, long offset, long length, int blockSize) {
        try {
            return CompletableFuture.completedFuture(client().hashes(volume, offset, length, blockSize));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public synchronized CompletionStage<List<List<byte[]>>> hashes(String volume, List<long[]> ranges, int blockSize) {
        try {
            return CompletableFuture.completedFuture(client().hashes(volume,
                    ranges.stream().map(r -> new LinkClient.HashRange(r[0], r[1], blockSize)).toList()));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private LinkClient client() {
        if (client == null) {
            throw new IllegalStateException("volume geometry unknown: no dirty record seen yet");
        }
        return client;
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.close();
            client = null;
        }
        attached = null;
    }
}
