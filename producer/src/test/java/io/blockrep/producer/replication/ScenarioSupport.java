package io.blockrep.producer.replication;

import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** A volume file and a {@link ModeHarness} over it, for the scripted scenarios of the mode machine (one file per bug). */
abstract class ScenarioSupport {
    @TempDir
    Path dir;
    private final List<Volume> files = new ArrayList<>();

    /** A harness over a volume file of its own. */
    ModeHarness harness(boolean autosync) {
        return harness(autosync, ReplicatedVolume.MirrorPolicy.SYNC);
    }

    /** A harness over a volume file of its own, mirroring as {@code mirror} says. */
    ModeHarness harness(boolean autosync, ReplicatedVolume.MirrorPolicy mirror) {
        VolumeStore store = new VolumeStore(dir);
        VolumeMetadata meta = store.create("vol" + files.size(), null, (long) ModeHarness.REGIONS * ModeHarness.REGION,
                ModeHarness.REGION, Role.PRIMARY);
        Volume file = Volume.open(meta, false);
        files.add(file);
        return new ModeHarness(1, file, ModeHarness.policy(autosync), mirror);
    }

    /** A harness whose volume is REPLICATING with the link up. */
    ModeHarness replicating() {
        return replicating(ReplicatedVolume.MirrorPolicy.SYNC);
    }

    /** A harness whose volume is REPLICATING (mirroring as {@code mirror} says) with the link up. */
    ModeHarness replicating(ReplicatedVolume.MirrorPolicy mirror) {
        ModeHarness h = harness(true, mirror);
        h.linkUp();
        h.io.runAll();
        if (h.volume.mode() != Mode.REPLICATING) {
            throw new AssertionError("not REPLICATING: " + h.volume.mode());
        }
        return h;
    }

    @AfterEach
    void closeFiles() throws Exception {
        for (Volume f : files) {
            f.close();
        }
    }
}
