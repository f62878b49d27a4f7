package io.blockrep.producer.replication;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Model-based test of the mode machine: seeded random interleavings of writes, write completions
 * (success, link loss, ack timeout, refusal, an I/O error on the peer), durable marks, I/O pool
 * tasks in any order, link down and up, timers (damping retries, cutover and restore hold bounds),
 * replays (and bogus replay reports, and dirty records tombstoned by someone else), approval, flushes, demote and promote — checking after every
 * step that no acknowledged write is outside both the replica and the dirty set, that REPLICATING
 * never has a dirty region and that no invariant violation was reported; and at the end of each
 * run that, healed, the volume gets back to REPLICATING with replica = source.
 *
 * <p>{@code -Dblockrep.model.runs=N} (default 2000) and {@code -Dblockrep.model.steps=N} (default
 * 200) size it, {@code -Dblockrep.model.base=S} moves the first seed; {@code -Dblockrep.model.seed=S} runs one
 * seed (a failure prints the line to use).
 */
class ModeMachineModelTest {
    private static final long BASE_SEED = 0x5eed_b10c_0000L;
    @TempDir
    static Path dir;
    private static Volume file;
    private static Level saved;

    @BeforeAll
    static void open() {
        VolumeStore store = new VolumeStore(dir);
        VolumeMetadata meta = store.create("vol", null, (long) ModeHarness.REGIONS * ModeHarness.REGION, ModeHarness.REGION, Role.PRIMARY);
        file = Volume.open(meta, false);
        Logger replication = (Logger) LoggerFactory.getLogger("io.blockrep.producer.replication");
        saved = replication.getLevel();
        replication.setLevel(Level.ERROR); // thousands of runs: mode changes are in each failure's step log instead
    }

    @AfterAll
    static void close() throws Exception {
        ((Logger) LoggerFactory.getLogger("io.blockrep.producer.replication")).setLevel(saved);
        file.close();
    }

    @Test
    void noInterleavingLeavesAnAcknowledgedWriteOutsideReplicaAndDirtySet() {
        int runs = Integer.getInteger("blockrep.model.runs", 2000);
        int steps = Integer.getInteger("blockrep.model.steps", 200);
        long base = Long.getLong("blockrep.model.base", BASE_SEED);
        String one = System.getProperty("blockrep.model.seed");
        if (one != null) {
            run(Long.decode(one), steps);
            return;
        }
        long started = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            run(base + i, steps);
        }
        LoggerFactory.getLogger("io.blockrep.model").info("{} seeded interleavings of {} steps passed in {} ms (seeds {}..{})",
                runs, steps, (System.nanoTime() - started) / 1_000_000, base, base + runs - 1);
    }

    /**
     * The same interleavings with async mirroring: a queue of 1 to 6 regions (so overflows happen)
     * and a max lag the timer steps past; an acknowledged write may then also sit in the queue, its
     * region durably hot. {@code -Dblockrep.model.async.runs=N} (default 1000).
     */
    @Test
    void asyncNoInterleavingLeavesAnAcknowledgedWriteOutsideReplicaDirtySetAndHotQueue() {
        int runs = Integer.getInteger("blockrep.model.async.runs", 1000);
        int steps = Integer.getInteger("blockrep.model.steps", 200);
        long base = Long.getLong("blockrep.model.base", BASE_SEED) + 1_000_000;
        String one = System.getProperty("blockrep.model.async.seed");
        if (one != null) {
            run(Long.decode(one), steps, true);
            return;
        }
        for (int i = 0; i < runs; i++) {
            run(base + i, steps, true);
        }
    }

    static void run(long seed, int steps) {
        run(seed, steps, false);
    }

    static void run(long seed, int steps, boolean async) {
        ReplicatedVolume.MirrorPolicy mirror = async
                ? ReplicatedVolume.MirrorPolicy.async((1 + seed % 6) * ModeHarness.REGION, java.time.Duration.ofMillis(seed % 3 == 0 ? 0 : 700))
                : ReplicatedVolume.MirrorPolicy.SYNC;
        ModeHarness h = new ModeHarness(seed, file, ModeHarness.policy(seed % 5 != 0), mirror);
        try {
            if (h.random.nextInt(4) != 0) {
                h.linkUp();
            }
            for (int i = 0; i < steps; i++) {
                step(h);
                h.check();
            }
            h.quiesce();
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("seed " + seed + " failed: " + e.getMessage()
                    + "\nreproduce: mvn -B -pl producer -am test -DskipITs -Dtest=ModeMachineModelTest -Dsurefire.failIfNoSpecifiedTests=false "
                    + (async ? "-Dblockrep.model.async.seed=" : "-Dblockrep.model.seed=") + seed, e);
        }
    }

    private static void step(ModeHarness h) {
        int dice = h.random.nextInt(100);
        if (dice < 22) {
            if (h.volume.role() == Role.PRIMARY) {
                h.write();
            }
        } else if (dice < 40) {
            if (h.replica.pendingOps() > 0) {
                int o = h.random.nextInt(100);
                ScriptedReplica.Outcome outcome = o < 82 ? ScriptedReplica.Outcome.SUCCEED : o < 86 ? ScriptedReplica.Outcome.LINK_DOWN
                        : o < 90 ? ScriptedReplica.Outcome.TIMEOUT : o < 94 ? ScriptedReplica.Outcome.REFUSED : ScriptedReplica.Outcome.IO_ERROR;
                h.note("peer answers: " + outcome);
                h.replica.complete(h.random, outcome);
            }
        } else if (dice < 55) {
            if (h.log.pendingMarks() > 0) {
                h.note("mark durable");
                h.log.completeMark(h.random);
            }
        } else if (dice < 72) {
            if (h.io.queued() > 0) {
                h.note("io task");
                h.io.runOne(h.random);
            }
        } else if (dice < 77) {
            if (h.replica.up()) {
                h.linkDown();
            } else {
                h.linkUp();
            }
        } else if (dice < 82) {
            h.note("timer");
            h.timer.fireNext();
        } else if (dice < 90) {
            h.replay();
        } else if (dice < 91) {
            h.badReplay();
        } else if (dice < 92) {
            h.forgeTombstone();
        } else if (dice < 94) {
            if (h.volume.mode() == Mode.AWAITING_APPROVAL) {
                h.approve();
            }
        } else if (dice < 97) {
            if (h.volume.role() == Role.PRIMARY) {
                h.flush();
            }
        } else {
            if (h.volume.role() == Role.PRIMARY) {
                h.demote();
            } else if (h.io.queued() == 0) {
                h.promote();
            }
        }
    }
}
