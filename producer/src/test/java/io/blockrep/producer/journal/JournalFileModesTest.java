package io.blockrep.producer.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A data set's journal holds volume data: its directory is 0700 and its file 0600, whatever the umask. */
class JournalFileModesTest {
    @TempDir
    Path volumeDir;

    @Test
    void aJournalIsOwnerOnly() throws IOException {
        try (DataSetJournal j = DataSetJournal.create(volumeDir, "vol-a", 7)) {
            j.append(0, java.nio.ByteBuffer.allocate(4096));
        }
        List<Path> created;
        try (Stream<Path> s = Files.walk(volumeDir)) {
            created = s.filter(p -> !p.equals(volumeDir)).toList();
        }
        assertThat(created).isNotEmpty();
        for (Path p : created) {
            String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
            assertThat(mode).as(p.toString()).isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
        }
    }
}
