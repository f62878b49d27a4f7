package io.blockrep.producer.replication;

import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.producer.link.LinkConfig;
import io.blockrep.producer.link.LinkDownException;
import io.blockrep.producer.link.LinkListener;
import io.blockrep.producer.link.ReplicationLink;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The facility's connection to its peer: a {@link ReplicationLink} that an operator can cut and
 * restore (the control API's link cut, used by the quickstart to show LOGGING). While cut, every
 * write fails at once with {@link LinkDownException} and nothing reconnects.
 *
 * <p>Thread-safe; {@code cut} and {@code restore} are serialised.
 */
public final class PeerLink implements ReplicaSink, AutoCloseable {
    private final LinkConfig config;
    private final List<VolumeInfo> volumes;
    private final LinkListener listener;
    private volatile ReplicationLink link;
    private volatile boolean healthy;

    public PeerLink(LinkConfig config, List<VolumeInfo> volumes, LinkListener listener) {
        this.config = config;
        this.volumes = List.copyOf(volumes);
        this.listener = listener;
    }

    public synchronized void start() {
        if (link == null) {
            link = new ReplicationLink(config, volumes, new LinkListener() {
                @Override
                public void onLinkRestored() {
                    healthy = true;
                    listener.onLinkRestored();
                }

                @Override
                public void onLinkDown(String reason) {
                    healthy = false;
                    listener.onLinkDown(reason);
                }
            });
            link.start();
        }
    }

    /** Drops the link and stops reconnecting until {@link #restore()}. */
    public synchronized void cut() {
        ReplicationLink current = link;
        link = null;
        if (current != null) {
            current.close();
            boolean wasHealthy = healthy;
            healthy = false;
            if (wasHealthy) {
                listener.onLinkDown("cut by operator");
            }
        }
    }

    public synchronized void restore() {
        start();
    }

    /** CUT, CONNECTING, PROBATION (connected, damping) or HEALTHY. */
    public String state() {
        ReplicationLink current = link;
        return current == null ? "CUT" : current.state().name();
    }

    public String peer() {
        return config.peer().toString();
    }

    @Override
    public CompletionStage<Void> write(String volume, long offset, ByteBuffer data, boolean fua) {
        ReplicationLink current = link;
        return current == null ? CompletableFuture.failedFuture(new LinkDownException("link cut by operator"))
                : current.write(volume, offset, data, fua);
    }

    @Override
    public CompletionStage<Void> flush(String volume) {
        ReplicationLink current = link;
        return current == null ? CompletableFuture.failedFuture(new LinkDownException("link cut by operator"))
                : current.flush(volume);
    }

    @Override
    public synchronized void close() {
        ReplicationLink current = link;
        link = null;
        if (current != null) {
            current.close();
        }
    }
}
