package io.blockrep.producer.replication;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.link.LinkMessage.VolumeInfo;
import io.blockrep.common.link.LinkStatus;
import io.blockrep.common.volume.GenerationHistory;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.schemas.DirtyCause;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.roaringbitmap.RoaringBitmap;

/**
 * One PRIMARY volume stepped by hand: a real {@link ReplicatedVolume} over a real volume file, with
 * a {@link ScriptedDirtyLog}, a {@link ScriptedReplica}, a {@link StepExecutor} for the I/O pool and
 * a {@link ManualTimer} for time. The harness also plays the replayer (it copies the regions the
 * dirty records name, reading the source now, and reports the eras with the counts of their
 * era-closed markers) and keeps the model the promise is checked against: per region, the version
 * of the last acknowledged write. {@link #check()} asserts DESIGN.md's invariants 1 and 2 and that
 * no violation was reported; {@link #quiesce()} heals everything and asserts the volume gets back to
 * REPLICATING with the replica equal to the source (liveness).
 *
 * <p>Every write stamps a fresh version into the first 8 bytes of its region (one region per write,
 * at most one write in flight per region, as a sane client does).
 */
final class ModeHarness {
    static final int REGION = 4096;
    static final int REGIONS = 16;

    final Random random;
    final StepExecutor io = new StepExecutor();
    final ManualTimer timer = new ManualTimer();
    final ScriptedReplica replica = new ScriptedReplica(REGION, REGIONS);
    final ScriptedDirtyLog log;
    final ReplicatedVolume volume;
    final List<String> violations = new ArrayList<>();
    final List<String> steps = new ArrayList<>();
    final boolean async;
    private final Volume file;
    private final long[] acked = new long[REGIONS];
    private final boolean[] busy = new boolean[REGIONS];
    /** What the replayer knows from Kafka: dirty records per era, and era-closed markers with counts. */
    private final TreeMap<Long, RoaringBitmap> records = new TreeMap<>();
    private final TreeMap<Long, Long> markers = new TreeMap<>();
    private long version;
    private final ByteBuffer buf = ByteBuffer.allocate(REGION);

    ModeHarness(long seed, Volume file, ReplicatedVolume.ResyncPolicy policy) {
        this(seed, file, policy, ReplicatedVolume.MirrorPolicy.SYNC);
    }

    /** With {@code mirror} async, an acknowledged write may also be in the async queue, its region durably hot. */
    ModeHarness(long seed, Volume file, ReplicatedVolume.ResyncPolicy policy, ReplicatedVolume.MirrorPolicy mirror) {
        this.random = new Random(seed);
        this.async = mirror.async();
        this.file = file;
        this.log = new ScriptedDirtyLog(file.geometry(), 1);
        VolumeMetadata meta = file.metadata();
        VolumeHandle handle = new VolumeHandle(file, meta, null);
        ReplicatedVolume.Services services = new ReplicatedVolume.Services("site-a", timer, io, timer, policy, () -> { }, mirror);
        this.volume = new ReplicatedVolume(handle, log, replica, new Observer(), services);
        // the file is shared by the seeds of a run: start from what the replica "holds", zero
        for (int r = 0; r < REGIONS; r++) {
            stamp(r, 0);
        }
    }

    static ReplicatedVolume.ResyncPolicy policy(boolean autosync) {
        return new ReplicatedVolume.ResyncPolicy(autosync, 2, Duration.ofMillis(2000), Duration.ofMillis(500));
    }

    private final class Observer implements VolumeObserver {
        @Override
        public void firstTouch(String v, long era, long region, long timeMillis, DirtyCause cause) {
            records.computeIfAbsent(era, e -> new RoaringBitmap()).add((int) region);
        }

        @Override
        public void modeChanged(String v, Mode from, Mode to, String reason) {
            steps.add("  mode " + from + " -> " + to + " (" + reason + ")");
        }

        @Override
        public void eraClosed(String v, long era, long regionCount) {
            markers.put(era, regionCount);
        }

        @Override
        public void republish(String v, long era, RoaringBitmap regions) {
            steps.add("  republished era " + era + " regions " + regions);
            records.computeIfAbsent(era, e -> new RoaringBitmap()).or(regions);
        }

        @Override
        public void invariantViolated(String v, String detail) {
            violations.add(detail);
        }
    }

    // ---------------------------------------------------------------- steps

    void note(String step) {
        steps.add(step);
    }

    /** A client writes a fresh version to a free region; false when every region is busy. */
    boolean write() {
        List<Integer> free = new ArrayList<>();
        for (int r = 0; r < REGIONS; r++) {
            if (!busy[r]) {
                free.add(r);
            }
        }
        if (free.isEmpty()) {
            return false;
        }
        write(free.get(random.nextInt(free.size())));
        return true;
    }

    void write(int region) {
        long v = ++version;
        busy[region] = true;
        ByteBuffer data = ByteBuffer.allocate(REGION);
        data.putLong(0, v);
        note("write region " + region + " v" + v);
        volume.write((long) region * REGION, data, false).whenComplete((x, e) -> {
            busy[region] = false;
            if (e == null) {
                acked[region] = Math.max(acked[region], v);
                steps.add("  acked region " + region + " v" + v);
            } else {
                steps.add("  failed region " + region + " v" + v + ": " + e);
            }
        });
    }

    void flush() {
        note("flush");
        volume.flush();
    }

    void linkDown() {
        note("link down");
        replica.up(false);
        volume.linkDown("cut (scripted)");
    }

    void linkUp() {
        note("link up");
        replica.up(true);
        volume.linkRestored(new PeerView("site-b", true, LinkStatus.OK, "",
                new VolumeInfo(volume.name(), (long) REGIONS * REGION, REGION, Role.SECONDARY, GenerationHistory.created().entries())));
    }

    /** The replayer copies every closed era it has a marker for and reports them; false when there is none. */
    boolean replay() {
        SortedMap<Long, Long> report = new TreeMap<>();
        for (Map.Entry<Long, Long> m : markers.entrySet()) {
            report.put(m.getKey(), m.getValue());
        }
        if (report.isEmpty() || volume.role() != Role.PRIMARY) {
            return false;
        }
        note("replay eras " + report);
        Map<Long, RoaringBitmap> copied = new HashMap<>();
        for (long era : report.keySet()) {
            RoaringBitmap regions = records.getOrDefault(era, new RoaringBitmap());
            regions.forEach((int r) -> replica.copied(r, sourceVersion(r)));
            copied.put(era, regions.clone());
        }
        try {
            volume.erasReplayed(report, copied);
            report.keySet().forEach(e -> {
                markers.remove(e);
                records.remove(e);
            });
        } catch (InvalidInputException e) {
            // eras the facility no longer has (dropped by an earlier report): a real replayer rebuilds its view
            note("  refused: " + e.getMessage());
            report.keySet().stream().filter(era -> !log.pendingEras().contains(era)).toList().forEach(era -> {
                markers.remove(era);
                records.remove(era);
            });
        }
        return true;
    }

    /** A report that does not match what the facility closed must be refused with nothing dropped. */
    void badReplay() {
        List<Long> pending = log.pendingEras();
        SortedMap<Long, Long> report = new TreeMap<>();
        if (!pending.isEmpty() && random.nextBoolean()) {
            long era = pending.get(random.nextInt(pending.size()));
            report.put(era, log.dirtyRegions(era).getLongCardinality() + 1);
        } else {
            report.put(log.openEra() + random.nextInt(2), 0L);
        }
        note("bad replay report " + report);
        long before = log.dirtyRegionCount();
        List<Long> erasBefore = log.pendingEras();
        try {
            volume.erasReplayed(report, Map.of());
            throw new AssertionError("a report not matching the closed eras was accepted: " + report);
        } catch (InvalidInputException expected) {
            if (log.dirtyRegionCount() != before || !log.pendingEras().equals(erasBefore)) {
                throw new AssertionError("a refused report dropped something: " + report);
            }
        }
    }

    /** Someone else tombstones a live dirty record: the replayer no longer sees that region. */
    void forgeTombstone() {
        List<Long> eras = records.entrySet().stream().filter(e -> !e.getValue().isEmpty()).map(Map.Entry::getKey).toList();
        if (eras.isEmpty()) {
            return;
        }
        long era = eras.get(random.nextInt(eras.size()));
        RoaringBitmap regions = records.get(era);
        int region = regions.select(random.nextInt(regions.getCardinality()));
        note("forged tombstone for era " + era + " region " + region);
        regions.remove(region);
    }

    void approve() {
        note("approve");
        volume.approve();
    }

    void demote() {
        note("demote");
        volume.demoteAsync("scripted").whenComplete((v, e) -> steps.add("  demote " + (e == null ? "done, dirty " + v : "failed: " + e)));
    }

    void promote() {
        note("promote");
        volume.promote(false, "scripted");
    }

    // ---------------------------------------------------------------- the promise

    /** The version the source (the local volume file) holds for {@code region} now. */
    long sourceVersion(int region) {
        buf.clear();
        try {
            file.read((long) region * REGION, buf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.getLong(0);
    }

    private void stamp(int region, long v) {
        ByteBuffer b = ByteBuffer.allocate(REGION);
        b.putLong(0, v);
        try {
            file.write((long) region * REGION, b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Invariants 1 and 2, and no violation reported; throws with the region and the step log. */
    void check() {
        RoaringBitmap dirty = log.durableDirty();
        RoaringBitmap hot = log.hotRegions();
        for (int r = 0; r < REGIONS; r++) {
            // async: still queued (or being marked) is fine while the region is durably hot (a crash makes it dirty)
            boolean queued = async && hot.contains(r) && volume.asyncHolds((long) r * REGION, REGION);
            if (acked[r] > 0 && replica.version(r) < acked[r] && !dirty.contains(r) && !queued) {
                throw failure("acknowledged write v" + acked[r] + " to region " + r + " is neither on the replica (v"
                        + replica.version(r) + ") nor in the dirty set " + dirty);
            }
        }
        if (volume.mode() == Mode.REPLICATING && log.dirtyRegionCount() > 0) {
            throw failure("REPLICATING with " + log.dirtyRegionCount() + " dirty region(s)");
        }
        if (!violations.isEmpty()) {
            throw failure("invariant violation reported: " + violations);
        }
    }

    /** Heals the link and lets everything finish: the volume must end REPLICATING with replica = source. */
    void quiesce() {
        note("quiesce");
        if (!replica.up()) {
            linkUp();
        }
        for (int i = 0; i < 10_000; i++) {
            check();
            if (io.queued() > 0) {
                io.runAll();
            } else if (volume.role() == Role.SECONDARY) {
                promote();
            } else if (log.pendingMarks() > 0) {
                log.completeAllMarks();
            } else if (replica.pendingOps() > 0) {
                replica.succeedAll(random);
            } else if (volume.mode() == Mode.AWAITING_APPROVAL) {
                approve();
            } else if (replay()) {
                continue;
            } else if (volume.mode() == Mode.REPLICATING && log.dirtyRegionCount() == 0) {
                for (int r = 0; r < REGIONS; r++) {
                    if (replica.version(r) != sourceVersion(r)) {
                        throw failure("REPLICATING and idle, but region " + r + " is v" + replica.version(r) + " on the replica, v"
                                + sourceVersion(r) + " on the source");
                    }
                }
                return;
            } else if (!timer.fireNext()) {
                throw failure("stuck in " + volume.mode() + " (" + volume.modeReason() + ") with nothing left to run; dirty "
                        + log.dirtyRegionCount() + ", pending eras " + log.pendingEras());
            }
        }
        throw failure("no REPLICATING after 10000 quiesce steps: " + volume.mode() + " (" + volume.modeReason() + ")");
    }

    AssertionError failure(String what) {
        int from = Math.max(0, steps.size() - 60);
        return new AssertionError(what + "\nlast steps:\n" + String.join("\n", steps.subList(from, steps.size())));
    }

    /** Every write the client was told is done has completed; used by scenarios. */
    boolean idle() {
        for (boolean b : busy) {
            if (b) {
                return false;
            }
        }
        return true;
    }

    static CompletableFuture<Void> done() {
        return CompletableFuture.completedFuture(null);
    }

    long acked(int region) {
        return acked[region];
    }

    Map<String, Integer> counts() {
        Map<String, Integer> m = new HashMap<>();
        m.put("io", io.queued());
        m.put("marks", log.pendingMarks());
        m.put("ops", replica.pendingOps());
        return m;
    }
}
