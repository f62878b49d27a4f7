package io.blockrep.producer.replication;

import io.blockrep.common.volume.Generation;
import io.blockrep.producer.link.LinkDownException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;

/**
 * A scripted {@link ReplicaSink} and the replica it writes: every write and flush waits until the
 * test completes it with an {@link Outcome}; a write that succeeds is applied to the replica then.
 * While the link is {@link #down}, calls fail at once, and going down fails everything pending
 * first (as the real link fails its pending writes before it reports the link down). The replica
 * keeps, per region, the version stamped in the first 8 bytes of the data. Single-threaded use.
 */
final class ScriptedReplica implements ReplicaSink {
    enum Outcome { SUCCEED, LINK_DOWN, TIMEOUT, REFUSED, IO_ERROR }

    private record Op(long offset, long version, boolean flush, CompletableFuture<Void> done) {
    }

    private final int regionSize;
    private final long[] replica;
    private final List<Op> pending = new ArrayList<>();
    private boolean up;
    final List<Boolean> generations = new ArrayList<>();
    /** Called with the offset of every write as it is issued (before it is pending). */
    java.util.function.LongConsumer onWrite = offset -> { };

    ScriptedReplica(int regionSize, int regions) {
        this.regionSize = regionSize;
        this.replica = new long[regions];
    }

    long version(int region) {
        return replica[region];
    }

    /** The replayer copied {@code version} of a region onto the replica (over its own connection). */
    void copied(int region, long version) {
        replica[region] = version;
    }

    /** The pending ops in issue order: a write's offset, -1 for a flush. */
    List<Long> pending() {
        return pending.stream().map(Op::offset).toList();
    }

    /** Completes the oldest pending op with {@code outcome}. */
    void completeFirst(Outcome outcome) {
        complete(new Random() {
            @Override
            public int nextInt(int bound) {
                return 0;
            }
        }, outcome);
    }

    int pendingOps() {
        return pending.size();
    }

    boolean up() {
        return up;
    }

    void up(boolean isUp) {
        if (!isUp) {
            while (!pending.isEmpty()) {
                pending.remove(0).done().completeExceptionally(new LinkDownException("link down (scripted)"));
            }
        }
        up = isUp;
    }

    void complete(Random random, Outcome outcome) {
        Op op = pending.remove(random.nextInt(pending.size()));
        switch (outcome) {
            case SUCCEED -> {
                if (!op.flush()) {
                    replica[(int) (op.offset() / regionSize)] = op.version();
                }
                op.done().complete(null);
            }
            case LINK_DOWN -> op.done().completeExceptionally(new LinkDownException("connection lost (scripted)"));
            case TIMEOUT -> op.done().completeExceptionally(new TimeoutException("no ack within the ack timeout (scripted)"));
            case REFUSED -> op.done().completeExceptionally(new io.blockrep.producer.link.LinkRefusedException(
                    io.blockrep.common.link.LinkStatus.NOT_ATTACHED, "refused (scripted)"));
            case IO_ERROR -> op.done().completeExceptionally(new IOException("No space left on device (scripted, on the peer)"));
        }
    }

    void succeedAll(Random random) {
        while (!pending.isEmpty()) {
            complete(random, Outcome.SUCCEED);
        }
    }

    @Override
    public CompletionStage<Void> write(String volume, long offset, ByteBuffer data, boolean fua) {
        if (!up) {
            return CompletableFuture.failedFuture(new LinkDownException("link down (scripted)"));
        }
        onWrite.accept(offset);
        Op op = new Op(offset, data.getLong(data.position()), false, new CompletableFuture<>());
        pending.add(op);
        return op.done();
    }

    /** When set, flushes succeed at once (an activity checkpoint's flush, say), instead of waiting for the test. */
    boolean flushAtOnce;

    @Override
    public CompletionStage<Void> flush(String volume) {
        if (!up) {
            return CompletableFuture.failedFuture(new LinkDownException("link down (scripted)"));
        }
        if (flushAtOnce) {
            return CompletableFuture.completedFuture(null);
        }
        Op op = new Op(-1, 0, true, new CompletableFuture<>());
        pending.add(op);
        return op.done();
    }

    @Override
    public CompletionStage<Void> generation(String volume, boolean inSync, List<Generation> history) {
        generations.add(inSync);
        return CompletableFuture.completedFuture(null);
    }
}
