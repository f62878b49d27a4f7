package io.blockrep.producer.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.FatalException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PartitionCountGuardTest {
    @TempDir
    Path dir;

    @Test
    void recordsTheFirstCountAndRefusesAnother() throws Exception {
        new PartitionCountGuard(dir).check("blockrep.dirty", 3);
        assertThat(Files.readString(dir.resolve(PartitionCountGuard.FILE))).contains("blockrep.dirty=3");
        new PartitionCountGuard(dir).check("blockrep.dirty", 3);
        new PartitionCountGuard(dir).check("other.dirty", 5);
        assertThatThrownBy(() -> new PartitionCountGuard(dir).check("blockrep.dirty", 6))
                .isInstanceOf(FatalException.class)
                .hasMessageContaining("now has 6 partitions")
                .hasMessageContaining("first saw 3")
                .hasMessageContaining("docs/kafka-topics.md");
    }
}
