package io.blockrep.common.volume;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.blockrep.common.FatalException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes {@link VolumeMetadataFile#read}: any file gives a {@link VolumeMetadata} or a
 * {@link FatalException}, never another exception. Seeds: {@code VolumeMetadataFuzzTestInputs/read/}
 * (the golden volume-v1..v3.json). CI fuzzes it with {@code -Pfuzz}.
 */
class VolumeMetadataFuzzTest {
    private static Path dir;

    @BeforeAll
    static void createDir() throws IOException {
        dir = Files.createTempDirectory("volume-meta-fuzz");
    }

    @AfterAll
    static void deleteDir() throws IOException {
        Files.deleteIfExists(dir.resolve("volume.json"));
        Files.deleteIfExists(dir);
    }

    @FuzzTest(maxDuration = "20s")
    void read(byte[] input) {
        Path file = dir.resolve("volume.json");
        try {
            Files.write(file, input);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            VolumeMetadataFile.read(file);
        } catch (FatalException expected) {
            // the documented refusal
        }
    }
}
