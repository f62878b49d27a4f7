package io.blockrep.replayer.service;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkClient;
import io.blockrep.common.link.LinkTls;
import io.blockrep.common.link.SharedSecret;
import io.blockrep.replayer.copy.SourceReader;
import io.blockrep.replayer.plan.Extent;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A source volume read over the link from its facility with READ requests: no local path, so the
 * replayer runs anywhere that reaches the facility's link address. Each {@link #read} call goes out
 * on this reader's own thread with every extent's READ_REQUEST written at once (one round trip), so
 * the copier can have the next data set read while it sends the current one.
 *
 * <p>Thread-safety: {@link #read} may be called from any thread; calls are served in order on one
 * reader thread, which alone touches the {@link LinkClient}. The connection attaches no volume (READ
 * needs only authentication), so one reader serves every volume of its node.
 */
final class LinkSourceReader implements SourceReader, AutoCloseable {
    private final HostPort peer;
    private final LinkClient client;
    private final ExecutorService thread;

    LinkSourceReader(String replayerId, HostPort peer, SharedSecret secret, Duration timeout, LinkTls tls) {
        this.peer = peer;
        this.client = new LinkClient(replayerId, peer, secret, List.of(), timeout, tls);
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "replay-source-" + peer);
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public CompletableFuture<List<ByteBuffer>> read(String volume, List<Extent> extents) {
        return read(volume, extents, ByteBuffer.allocate(0));
    }

    /** The replies' frames land in {@code into} one after another, so a data set's reads allocate nothing. */
    @Override
    public CompletableFuture<List<ByteBuffer>> read(String volume, List<Extent> extents, ByteBuffer into) {
        List<LinkClient.ReadRange> ranges = extents.stream().map(e -> new LinkClient.ReadRange(e.offset(), Math.toIntExact(e.length())))
                .toList();
        try {
            return CompletableFuture.supplyAsync(() -> client.read(volume, ranges, into), thread);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new IllegalStateException("source reader for " + peer + " is closed"));
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
        // The reader thread may be inside a call; closing the socket ends it.
        client.close();
    }
}
