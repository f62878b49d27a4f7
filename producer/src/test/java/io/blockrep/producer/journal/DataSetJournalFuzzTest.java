package io.blockrep.producer.journal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.blockrep.common.FatalException;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes {@link DataSetJournal#recover} on a journal file with fuzzed bytes: a torn or corrupt journal
 * is discarded, a committed one re-applied, one that does not fit the volume is a {@link FatalException};
 * an {@link IOException} is allowed (the documented signature); nothing else. Each input is tried as is
 * and with its header CRC32C recomputed. Seeds: {@code DataSetJournalFuzzTestInputs/recover/} (the golden
 * v1 and v2 journals of volume 'vol-a'). CI fuzzes it with {@code -Pfuzz}.
 */
class DataSetJournalFuzzTest {
    private static Path root;
    private static Path volumeDir;
    private static Volume volume;

    @BeforeAll
    static void openVolume() throws IOException {
        root = Files.createTempDirectory("journal-fuzz");
        VolumeStore store = new VolumeStore(root);
        volume = Volume.open(store.create("vol-a", null, 256 * 1024, 4096, Role.SECONDARY), false);
        volumeDir = store.volumeDir("vol-a");
    }

    @AfterAll
    static void closeVolume() throws IOException {
        volume.close();
        try (var files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @FuzzTest(maxDuration = "20s")
    void recover(byte[] input) throws IOException {
        tryRecover(input);
        if (input.length >= 8) {
            int n = ByteBuffer.wrap(input).getShort(6) & 0xFFFF;
            if (input.length >= 20 + n) {
                byte[] fixed = input.clone();
                CRC32C crc = new CRC32C();
                crc.update(fixed, 0, 16 + n);
                ByteBuffer.wrap(fixed).putInt(16 + n, (int) crc.getValue());
                tryRecover(fixed);
            }
        }
    }

    private static void tryRecover(byte[] bytes) throws IOException {
        Path dir = DataSetJournal.directory(volumeDir);
        Files.createDirectories(dir);
        Files.write(DataSetJournal.file(volumeDir, 3), bytes);
        try {
            DataSetJournal.recover(volumeDir, volume);
        } catch (FatalException expected) {
            // the documented refusal of a committed journal that does not fit
        } finally {
            Files.deleteIfExists(DataSetJournal.file(volumeDir, 3));
        }
    }
}
