package io.blockrep.producer.replication;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.producer.dirty.DirtyLog;
import io.blockrep.producer.dirty.MarkResult;
import io.blockrep.schemas.DirtyCause;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The write path of one volume: admission (through the {@link ModeMachine}), mirroring, logging and
 * marking.
 *
 * <p>REPLICATING: the write's regions are made hot in the activity log (durably, unless already
 * hot), then sent to the peer and, while that copy is on the wire, written locally (with its FUA
 * fsync); the client is acknowledged when both are done. If the peer's copy fails (link down, ack timeout, refused, an I/O error there), the
 * volume leaves REPLICATING and the regions are marked dirty durably, both <em>before</em> the
 * acknowledgement is released, so the client still sees success. A local write that fails after the
 * peer's copy succeeded leaves the sides different: the volume leaves REPLICATING, its regions are
 * marked dirty and the client gets EIO. LOGGING (and RESYNCING, CUTOVER, AWAITING_APPROVAL,
 * SPLIT_BRAIN): the regions are marked dirty durably (a no-op for regions already dirty in the open
 * era), then written locally. Excluded ranges are never marked or made hot ({@link DirtyLog} filters).
 *
 * <p>Thread-safety: every method may be called from any thread; continuations that follow a mark
 * run on the I/O executor, never on a bitmap flusher thread.
 */
final class WritePath {
    private static final int ZERO_CHUNK = 1 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(ZERO_CHUNK).asReadOnlyBuffer();

    private final String name;
    private final Volume volume;
    private final RegionGeometry geometry;
    private final DirtyLog tracker;
    private final ReplicaSink sink;
    private final VolumeObserver observer;
    private final Clock clock;
    private final Executor io;
    private final ModeMachine machine;
    private final VolumeRoles roles;
    private final ActivityCheckpointer activity;
    /** The queue of an async REPLICATING volume; null when REPLICATING is synchronous (or there is no peer). */
    private final AsyncMirror async;
    private volatile long oldestDirtyMillis;

    WritePath(Volume volume, DirtyLog tracker, ReplicaSink sink, VolumeObserver observer, ReplicatedVolume.Services services,
            ModeMachine machine, VolumeRoles roles, ActivityCheckpointer activity) {
        this.name = volume.id();
        this.volume = volume;
        this.geometry = volume.geometry();
        this.tracker = tracker;
        this.sink = sink;
        this.observer = observer;
        this.clock = services.clock();
        this.io = services.io();
        this.machine = machine;
        this.roles = roles;
        this.activity = activity;
        ReplicatedVolume.MirrorPolicy policy = services.mirror();
        this.async = sink != null && tracker != null && policy.async()
                ? new AsyncMirror(name, new MirrorPeer(), policy, clock, services.timer(), io) : null;
        if (tracker != null && tracker.dirtyRegionCount() > 0) {
            oldestDirtyMillis = clock.millis();
        }
    }

    CompletionStage<Void> read(long offset, ByteBuffer dst) {
        return run(() -> volume.read(offset, dst));
    }

    CompletionStage<Void> write(long offset, ByteBuffer data, boolean fua) {
        int length = data.remaining();
        if (!geometry.contains(offset, length)) {
            return CompletableFuture.failedFuture(rangeError(offset, length));
        }
        if (length == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return admitted(offset, length, m -> m == Mode.SECONDARY ? Issued.of(readOnlyRefusal())
                : m == Mode.REPLICATING
                ? async != null
                        ? asyncMirrored(offset, length, () -> localWrite(offset, data.duplicate(), fua), () -> async.write(offset, data, fua))
                        : Issued.of(mirrored(offset, length, () -> localWrite(offset, data.duplicate(), fua),
                                () -> sink.write(name, offset, data.duplicate(), fua)))
                : Issued.of(logged(offset, length, () -> localWrite(offset, data.duplicate(), fua))));
    }

    CompletionStage<Void> writeZeroes(long offset, long length, boolean fua) {
        if (!geometry.contains(offset, length)) {
            return CompletableFuture.failedFuture(rangeError(offset, length));
        }
        if (length == 0) {
            return CompletableFuture.completedFuture(null);
        }
        return admitted(offset, length, m -> m == Mode.SECONDARY ? Issued.of(readOnlyRefusal())
                : m == Mode.REPLICATING
                ? async != null
                        ? asyncMirrored(offset, length, () -> localZeroes(offset, length, fua), () -> async.zeroes(offset, length, fua))
                        : Issued.of(mirrored(offset, length, () -> localZeroes(offset, length, fua), () -> remoteZeroes(offset, length, fua)))
                : Issued.of(logged(offset, length, () -> localZeroes(offset, length, fua))));
    }

    /** TRIM keeps the data (see {@link Volume#trim}), so there is nothing to mirror or mark. */
    CompletionStage<Void> trim(long offset, long length) {
        if (roles.role() == Role.SECONDARY) {
            return readOnlyRefusal();
        }
        return run(() -> volume.trim(offset, length));
    }

    /**
     * FLUSH means durable on both sides. If the peer cannot confirm it, the regions written since
     * the last activity checkpoint (the hot ones) may not be durable there: the volume leaves
     * REPLICATING and they become dirty before the flush completes, so a resync makes them so.
     */
    CompletionStage<Void> flush() {
        // Admitted like a write: its marks (on a failed peer flush) must be done before a drain ends.
        return machine.admit().thenCompose(admission -> {
            if (admission.mode() == Mode.REPLICATING && async != null) {
                // The barrier is queued before the local flush; the client does not wait for the peer's flush.
                async.flush().whenComplete((v, e) -> machine.completed(admission));
                return run(volume::flush);
            }
            CompletableFuture<Void> local = run(volume::flush);
            CompletableFuture<Void> done;
            if (admission.mode() != Mode.REPLICATING) {
                done = local;
            } else {
                CompletableFuture<Void> remote = sink.flush(name).toCompletableFuture()
                        .handle((v, e) -> e)
                        .thenCompose(e -> {
                            if (e == null) {
                                return CompletableFuture.<Void>completedFuture(null);
                            }
                            machine.mirrorFailed("peer flush failed: " + VolumeRoles.unwrap(e));
                            return markHotDirty();
                        });
                done = CompletableFuture.allOf(local, remote);
            }
            return done.whenComplete((v, e) -> machine.completed(admission));
        });
    }

    private CompletionStage<Void> readOnlyRefusal() {
        return CompletableFuture.failedFuture(new VolumeReadOnlyException("volume '" + name
                + "' is SECONDARY here and refuses writes (it was demoted)"));
    }

    // ---------------------------------------------------------------- admission and the two paths

    private interface IoAction {
        void run() throws IOException;
    }

    /**
     * A write's reply to the client and the stage after which it no longer counts as in flight: the
     * same for a sync or logged write, later for an async one (when its copy is acknowledged by the
     * peer or its regions are dirty), so its regions stay hot and drains wait for it.
     */
    private record Issued(CompletionStage<Void> reply, CompletionStage<Void> settled) {
        static Issued of(CompletionStage<Void> stage) {
            return new Issued(stage, stage);
        }
    }

    /** Admits a write under the current mode; it counts in flight until it is settled. */
    private CompletionStage<Void> admitted(long offset, long length, Function<Mode, Issued> path) {
        return machine.admit().thenCompose(admission -> {
            Mode m = admission.mode();
            boolean mirrored = m == Mode.REPLICATING;
            if (mirrored) {
                activity.enter(offset, length);
            }
            Issued issued;
            try {
                issued = path.apply(m);
            } catch (RuntimeException e) {
                issued = Issued.of(CompletableFuture.failedFuture(e));
            }
            CompletionStage<Void> released = issued.settled().whenComplete((v, e) -> {
                if (mirrored) {
                    activity.leave(offset, length);
                }
                machine.completed(admission);
            });
            return issued.reply() == issued.settled() ? released : issued.reply();
        });
    }

    private CompletionStage<Void> logged(long offset, long length, IoAction local) {
        if (tracker == null) {
            return run(local);
        }
        return then(mark(offset, length, DirtyCause.LOGGED_WRITE), () -> run(local));
    }

    private CompletionStage<Void> mirrored(long offset, long length, IoAction local, Supplier<CompletionStage<Void>> remote) {
        return then(tracker.markHot(offset, length), () -> {
            // The peer's copy is queued first: the local write (with its FUA fsync) runs while it is on the wire.
            CompletableFuture<Throwable> remoteDone = remote.get().toCompletableFuture()
                    .handle((v, e) -> e == null ? null : VolumeRoles.unwrap(e));
            CompletableFuture<Void> localDone = run(local);
            return localDone.handle((v, localError) -> localError == null ? null : VolumeRoles.unwrap(localError))
                    .thenCombine(remoteDone, (localError, remoteError) -> new Throwable[] {localError, remoteError})
                    .thenCompose(errors -> settle(offset, length, errors[0], errors[1]));
        });
    }

    /**
     * REPLICATING, async: the regions hot (durably), the copy queued, then the local write; the
     * client hears back once the local write is done. The copy settles on its own (see {@link AsyncMirror}).
     */
    private Issued asyncMirrored(long offset, long length, IoAction local, Supplier<CompletableFuture<Void>> queue) {
        CompletableFuture<Void> copy = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicBoolean queued = new java.util.concurrent.atomic.AtomicBoolean();
        CompletableFuture<Void> reply = then(tracker.markHot(offset, length), () -> {
            queued.set(true);
            queue.get().whenComplete((v, e) -> copy.complete(null));
            return run(local).handle((v, e) -> e == null ? null : VolumeRoles.unwrap(e))
                    .thenCompose(localError -> localError == null ? CompletableFuture.<Void>completedFuture(null)
                            : settle(offset, length, localError, null));
        }).toCompletableFuture();
        CompletableFuture<Void> settled = reply.handle((v, e) -> {
            if (!queued.get()) {
                copy.complete(null); // the hot mark failed: nothing was queued
            }
            return null;
        }).thenCompose(x -> copy);
        return new Issued(reply, settled);
    }

    /** The async queue's way to the peer and to the dirty log. */
    private final class MirrorPeer implements AsyncMirror.Peer {
        @Override
        public CompletionStage<Void> write(long offset, ByteBuffer data, boolean fua) {
            return sink.write(name, offset, data, fua);
        }

        @Override
        public CompletionStage<Void> zeroes(long offset, long length, boolean fua) {
            return remoteZeroes(offset, length, fua);
        }

        @Override
        public CompletionStage<Void> flush() {
            return sink.flush(name);
        }

        @Override
        public void leaveReplicating(String why) {
            machine.mirrorFailed(why);
        }

        @Override
        public CompletionStage<?> markDirty(long offset, long length) {
            return mark(offset, length, DirtyCause.IN_FLIGHT);
        }

        @Override
        public CompletionStage<?> markHotDirty() {
            return WritePath.this.markHotDirty();
        }
    }

    boolean asyncHolds(long offset, long length) {
        return async != null && async.holds(offset, length);
    }

    /** The async queue's figures; null when REPLICATING is synchronous. */
    MirrorLag asyncStats() {
        return async == null ? null : async.stats();
    }

    /** Decides a mirrored write's outcome once both copies finished: any failure leaves REPLICATING, then marks, then acknowledges. */
    private CompletionStage<Void> settle(long offset, long length, Throwable localError, Throwable remoteError) {
        if (localError == null && remoteError == null) {
            return CompletableFuture.completedFuture(null);
        }
        if (localError == null) {
            // The peer may not have it: dirty before the client hears success.
            machine.mirrorFailed("mirrored write failed on the peer: " + remoteError);
            return mark(offset, length, DirtyCause.IN_FLIGHT).thenApply(r -> null);
        }
        // The peer may have data the source lacks: dirty, so a resync restores the source's view.
        machine.mirrorFailed("local write failed: " + localError);
        return mark(offset, length, DirtyCause.LOCAL_EIO).thenCompose(r -> CompletableFuture.<Void>failedFuture(localError));
    }

    // ---------------------------------------------------------------- marking

    CompletionStage<MarkResult> mark(long offset, long length, DirtyCause cause) {
        try {
            roles.divergeIfShared();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return tracker.markWrite(offset, length).thenApply(result -> {
            if (result.firstTouchCount() > 0) {
                long now = clock.millis();
                if (oldestDirtyMillis == 0) {
                    oldestDirtyMillis = now;
                }
                result.firstTouches().forEach(region -> observer.firstTouch(name, result.era(), region, now, cause));
                machine.marked(result.firstTouchCount());
            }
            return result;
        });
    }

    CompletionStage<MarkResult> markRegions(long first, long last, DirtyCause cause) {
        long offset = geometry.regionStart(first);
        long end = geometry.regionStart(last) + geometry.regionLength(last);
        return mark(offset, end - offset, cause);
    }

    /** Marks every hot region of the activity log dirty (cause IN_FLIGHT); completes when all are durable. */
    CompletableFuture<Void> markHotDirty() {
        if (tracker == null) {
            return CompletableFuture.completedFuture(null);
        }
        List<CompletableFuture<MarkResult>> marks = new ArrayList<>();
        tracker.hotRegions().forEach((int region) -> marks.add(
                markRegions(Integer.toUnsignedLong(region), Integer.toUnsignedLong(region), DirtyCause.IN_FLIGHT).toCompletableFuture()));
        return CompletableFuture.allOf(marks.toArray(CompletableFuture[]::new));
    }

    /** Epoch millis of the oldest write the peer may lack (approximate across restarts), or 0 when nothing is dirty. */
    long oldestDirtyMillis() {
        if (tracker == null || tracker.dirtyRegionCount() == 0) {
            oldestDirtyMillis = 0;
        }
        return oldestDirtyMillis;
    }

    // ---------------------------------------------------------------- I/O

    /** Runs {@code next} after {@code stage}: inline when it is already done, else on the I/O executor (never on a flusher thread). */
    private <T> CompletableFuture<Void> then(CompletionStage<T> stage, Supplier<CompletionStage<Void>> next) {
        CompletableFuture<T> f = stage.toCompletableFuture();
        if (f.isDone() && !f.isCompletedExceptionally()) {
            return next.get().toCompletableFuture();
        }
        return f.thenComposeAsync(x -> next.get(), io);
    }

    private void localWrite(long offset, ByteBuffer data, boolean fua) throws IOException {
        volume.write(offset, data);
        if (fua) {
            volume.flush();
        }
    }

    private void localZeroes(long offset, long length, boolean fua) throws IOException {
        volume.writeZeroes(offset, length);
        if (fua) {
            volume.flush();
        }
    }

    /** The link has no WRITE_ZEROES yet: zeroes are sent as writes of at most 1 MiB each, all pipelined. */
    private CompletionStage<Void> remoteZeroes(long offset, long length, boolean fua) {
        CompletableFuture<?>[] parts = new CompletableFuture<?>[(int) ((length + ZERO_CHUNK - 1) / ZERO_CHUNK)];
        long pos = offset;
        for (int i = 0; i < parts.length; i++) {
            int n = (int) Math.min(ZERO_CHUNK, offset + length - pos);
            ByteBuffer chunk = ZEROES.duplicate();
            chunk.limit(n);
            parts[i] = sink.write(name, pos, chunk, fua && i == parts.length - 1).toCompletableFuture();
            pos += n;
        }
        return CompletableFuture.allOf(parts);
    }

    private static CompletableFuture<Void> run(IoAction action) {
        try {
            action.run();
            return CompletableFuture.completedFuture(null);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        } catch (UncheckedIOException e) {
            return CompletableFuture.failedFuture(e.getCause());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private InvalidInputException rangeError(long offset, long length) {
        return new InvalidInputException("volume '" + name + "': range [" + offset + ", +" + length
                + ") is outside the volume (size " + volume.size() + ")");
    }
}
