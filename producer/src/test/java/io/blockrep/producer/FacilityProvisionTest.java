package io.blockrep.producer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.VolumeStore;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Facility#provision} compares each configured volume with the metadata it loads, as the config
 * check does: a volume that appeared on disk after the configuration was checked is still refused when it
 * disagrees, every disagreement named.
 */
class FacilityProvisionTest {
    @TempDir
    Path dir;

    private ProducerConfig config(Path state, String size, String regionSize, Path path) {
        Properties p = new Properties();
        p.setProperty("producer.node.id", "site-a");
        p.setProperty("producer.state.dir", state.toString());
        p.setProperty("producer.volumes", "demo");
        p.setProperty("producer.volume.demo.size", size);
        p.setProperty("producer.volume.demo.region.size", regionSize);
        if (path != null) {
            p.setProperty("producer.volume.demo.path", path.toString());
        }
        return ProducerConfig.from(p, Map.of());
    }

    @Test
    void aVolumeThatDisagreesWithItsMetadataIsRefusedWithEveryDifference() {
        Path state = dir.resolve("state");
        Path elsewhere = dir.resolve("elsewhere.img");
        ProducerConfig cfg = config(state, "2M", "128K", elsewhere);
        VolumeStore store = new VolumeStore(state);
        store.create("demo", null, 1L << 20, 64 * 1024, Role.PRIMARY);
        assertThatThrownBy(() -> Facility.provision(store, cfg))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems()).containsExactly(
                        "producer.volume.demo.size: configured 2M but the volume is 1M (volumes are not resized)",
                        "producer.volume.demo.region.size: configured 128K but the volume uses 64K",
                        "producer.volume.demo.path: configured " + elsewhere.toAbsolutePath() + " but the volume is backed by "
                                + store.load("demo").path()));
    }

    @Test
    void aMatchingVolumeIsLoadedAndAMissingOneCreated() {
        Path state = dir.resolve("state");
        VolumeStore store = new VolumeStore(state);
        store.create("demo", null, 1L << 20, 64 * 1024, Role.PRIMARY);
        assertThat(Facility.provision(store, config(state, "1M", "64K", null))).singleElement()
                .satisfies(m -> assertThat(m.size()).isEqualTo(1L << 20));
        Path fresh = dir.resolve("fresh");
        assertThat(Facility.provision(new VolumeStore(fresh), config(fresh, "2M", "64K", null))).singleElement()
                .satisfies(m -> assertThat(m.size()).isEqualTo(2L << 20));
    }
}
