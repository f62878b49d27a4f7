package io.blockrep.producer.publish;

import io.blockrep.common.FatalException;
import io.blockrep.common.RetriableException;
import io.blockrep.common.volume.VolumeMetadataFile;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Remembers the partition count a facility first saw for its dirty topic, in
 * {@code <stateDir>/kafka-partitions.properties} (written atomically), and refuses a different one: a
 * volume's partition depends on the count, so after a change the facility and the replayer would look
 * for its records in the wrong partition. Not thread-safe; used by the publisher's thread.
 */
final class PartitionCountGuard {
    static final String FILE = "kafka-partitions.properties";
    static final String MIGRATION = "docs/kafka-topics.md, section 'Changing the partition count of the dirty topic'";

    private final Path file;

    PartitionCountGuard(Path stateDir) {
        this.file = stateDir.resolve(FILE);
    }

    /**
     * Records {@code partitions} for {@code topic} on first sight; throws {@link FatalException} on a change
     * or an unreadable file, {@link RetriableException} when the record cannot be written (ENOSPC, EIO).
     */
    void check(String topic, int partitions) {
        Properties seen = read();
        String recorded = seen.getProperty(topic);
        if (recorded == null) {
            seen.setProperty(topic, Integer.toString(partitions));
            write(seen);
            return;
        }
        if (!recorded.trim().equals(Integer.toString(partitions))) {
            throw new FatalException("topic " + topic + " now has " + partitions + " partitions, but this facility first saw "
                    + recorded.trim() + " (recorded in " + file + "). Each volume's dirty records live in the partition chosen"
                    + " from its id and the partition count, so they would be looked for in the wrong place. Refusing to run;"
                    + " follow the migration in " + MIGRATION + ".");
        }
    }

    private Properties read() {
        Properties p = new Properties();
        if (Files.exists(file)) {
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException | IllegalArgumentException e) {
                throw new FatalException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
        return p;
    }

    private void write(Properties p) {
        try {
            StringWriter w = new StringWriter();
            p.store(w, "partition counts of blockrep's dirty topics, as first seen; see " + MIGRATION);
            VolumeMetadataFile.writeAtomically(file, w.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // A full or failing disk is transient (unlike a changed count or an unreadable file): the
            // publisher reconnects with backoff and records the count once the write succeeds.
            throw new RetriableException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
