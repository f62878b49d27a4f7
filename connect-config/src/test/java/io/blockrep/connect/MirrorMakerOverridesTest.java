package io.blockrep.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.testkit.kafka.MirrorMaker;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.mirror.SourceAndTarget;
import org.junit.jupiter.api.Test;

/** The testkit helper runs the deployed file with only the documented in-JVM overrides. */
class MirrorMakerOverridesTest {

    @Test
    void onlyBootstrapServersPluginDiscoveryAndReplicationFactorsDifferFromTheFile() {
        Map<String, String> file = MirrorMaker.load(MirrorMaker.repositoryRoot().resolve(MirrorMaker.CONFIG_FILE));
        Map<String, String> run = MirrorMaker.fromRepository()
                .bootstrapServers("site-a", "127.0.0.1:1111")
                .bootstrapServers("site-b", "127.0.0.1:2222")
                .build().properties();

        Set<String> changed = new HashSet<>(run.keySet());
        changed.removeIf(k -> run.get(k).equals(file.get(k)));
        Set<String> allowed = new HashSet<>(MirrorMaker.REPLICATION_FACTOR_KEYS);
        allowed.addAll(Set.of("site-a.bootstrap.servers", "site-b.bootstrap.servers",
                "plugin.discovery", "site-a.plugin.discovery", "site-b.plugin.discovery"));
        assertThat(changed).isSubsetOf(allowed).contains("site-a.bootstrap.servers", "site-b.bootstrap.servers");
        assertThat(file.keySet()).allSatisfy(k -> assertThat(run).containsKey(k));
        assertThat(run).containsEntry("site-a.bootstrap.servers", "127.0.0.1:1111").containsEntry("plugin.discovery", "service_load")
                .containsEntry("site-b.plugin.discovery", "service_load");
        MirrorMaker.REPLICATION_FACTOR_KEYS.forEach(k -> assertThat(run).containsEntry(k, "1"));
    }

    @Test
    void theFileMirrorsBothDirections() {
        MirrorMaker mm = MirrorMaker.fromRepository().build();
        assertThat(mm.flows()).containsExactlyInAnyOrder(
                new SourceAndTarget("site-a", "site-b"), new SourceAndTarget("site-b", "site-a"));
    }

    @Test
    void anAliasTheFileDoesNotNameIsRefused() {
        assertThatThrownBy(() -> MirrorMaker.fromRepository().bootstrapServers("site-c", "x:1").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("site-c");
    }

    @Test
    void everyReplicationFactorTheHelperLowersIsSetInTheFile() {
        // so that "only the bootstrap servers overridden" stays true of every other setting
        Map<String, String> file = new HashMap<>(MirrorMaker.load(MirrorMaker.repositoryRoot().resolve(MirrorMaker.CONFIG_FILE)));
        assertThat(file).containsKeys(MirrorMaker.REPLICATION_FACTOR_KEYS.toArray(String[]::new));
    }
}
