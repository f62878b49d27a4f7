package io.blockrep.common.volume;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.blockrep.common.FatalException;
import io.blockrep.common.fuzz.FuzzFile;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes {@link VolumeMetadataFile#read}: any file gives a {@link VolumeMetadata} or a
 * {@link FatalException}, never another exception. Seeds: {@code VolumeMetadataFuzzTestInputs/read/}
 * (the golden volume-v1..v3.json). CI fuzzes it with {@code -Pfuzz}.
 */
class VolumeMetadataFuzzTest {
    private static FuzzFile file;

    @BeforeAll
    static void createFile() throws IOException {
        file = FuzzFile.create("volume-meta-fuzz", "volume.json");
    }

    @AfterAll
    static void deleteFile() throws IOException {
        file.close();
    }

    @FuzzTest(maxDuration = "20s")
    void read(byte[] input) {
        try {
            VolumeMetadataFile.read(file.write(input));
        } catch (FatalException expected) {
            // the documented refusal
        }
    }
}
