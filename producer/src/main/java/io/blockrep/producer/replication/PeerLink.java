package io.blockrep.producer.replication;

import io.blockrep.common.link.LinkHandshake;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.volume.Generation;
import io.blockrep.producer.link.LinkConfig;
import io.blockrep.producer.link.LinkDownException;
import io.blockrep.producer.link.LinkListener;
import io.blockrep.producer.link.ReplicationLink;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The facility's connection to its peer: a {@link ReplicationLink} that an operator can cut and
 * restore (the control API's link cut, used by the quickstart to show LOGGING). While cut, every
 * write fails at once with {@link LinkDownException} and nothing reconnects.
 *
 * <p>Thread-safe; {@code cut} and {@code restore} are serialised. The listener hears "restored" and
 * "down" alternating and in order across links: a link dropped here reports nothing afterwards.
 */
public final class PeerLink implements ReplicaSink, AutoCloseable {
    private final LinkConfig config;
    private final Supplier<List<VolumeInfo>> volumes;
    private final LinkListener listener;
    private volatile ReplicationLink link;
    private volatile boolean healthy;
    private volatile boolean cut;
    /**
     * Orders the listener's calls: only the current link reports, and a drop's "down" is delivered
     * before anything of the next link. The listener must not block (it is called holding this).
     */
    private final Object events = new Object();

    /** @param volumes what to offer the peer, asked anew on every connection (see {@link ReplicationLink}) */
    public PeerLink(LinkConfig config, Supplier<List<VolumeInfo>> volumes, LinkListener listener) {
        this.config = config;
        this.volumes = volumes;
        this.listener = listener;
    }

    public synchronized void start() {
        start(false);
    }

    /** @param trusted the new link replaces a healthy one dropped on purpose: its first connection is not damped */
    private void start(boolean trusted) {
        if (link == null) {
            ReplicationLink[] self = new ReplicationLink[1];
            self[0] = new ReplicationLink(config, volumes, new LinkListener() {
                @Override
                public void onLinkRestored(LinkHandshake.Outcome handshake) {
                    synchronized (events) {
                        if (link != self[0]) {
                            return; // a link already dropped: its late news must not overtake the drop's "down"
                        }
                        healthy = true;
                        listener.onLinkRestored(handshake);
                    }
                }

                @Override
                public void onLinkDown(String reason) {
                    synchronized (events) {
                        if (link != self[0]) {
                            return;
                        }
                        healthy = false;
                        listener.onLinkDown(reason);
                    }
                }

                @Override
                public void onConnected() {
                    listener.onConnected();
                }

                @Override
                public void onLinkError(String kind, String reason) {
                    listener.onLinkError(kind, reason);
                }

                @Override
                public void onRoundTrip(long nanos) {
                    listener.onRoundTrip(nanos);
                }
            });
            synchronized (events) {
                link = self[0];
            }
            if (trusted) {
                link.trustNextConnection();
            }
            link.start();
        }
    }

    /** Drops the link and stops reconnecting until {@link #restore()}. */
    public synchronized void cut() {
        cut = true;
        drop("cut by operator");
    }

    /**
     * Drops the connection and connects again at once, so the peer sees what this side offers now
     * (a role or generation changed); when the dropped link was healthy, the new one counts as
     * restored without damping. Does nothing while cut. Returns when the new connection's
     * handshake is done (the peer has seen the new offer), or after {@code wait} when the peer is
     * not reachable.
     */
    public void reconnect(String reason, Duration wait) {
        ReplicationLink fresh;
        synchronized (this) {
            if (cut || link == null) {
                return;
            }
            boolean wasHealthy = healthy;
            drop(reason);
            start(wasHealthy);
            fresh = link;
        }
        try {
            fresh.firstHandshake().toCompletableFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the peer is not reachable now; it sees the new offer when the link returns
        }
    }

    /** Forgets the current link and reports it down (if it was up) before closing it, so no event of it follows. */
    private void drop(String reason) {
        ReplicationLink current;
        synchronized (events) {
            current = link;
            link = null;
            if (current != null) {
                boolean wasHealthy = healthy;
                healthy = false;
                if (wasHealthy) {
                    listener.onLinkDown(reason);
                }
            }
        }
        if (current != null) {
            current.close();
        }
    }

    public synchronized void restore() {
        cut = false;
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
    public CompletionStage<Void> generation(String volume, boolean inSync, List<Generation> history) {
        ReplicationLink current = link;
        return current == null ? CompletableFuture.failedFuture(new LinkDownException("link cut by operator"))
                : current.sendGeneration(volume, inSync, history);
    }

    @Override
    public synchronized void close() {
        ReplicationLink current;
        synchronized (events) {
            current = link;
            link = null;
        }
        if (current != null) {
            current.close();
        }
    }
}
