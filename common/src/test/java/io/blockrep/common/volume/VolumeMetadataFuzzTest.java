package io.blockrep.common.volume;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.blockrep.common.FatalException;
import io.blockrep.common.fuzz.FuzzFile;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Fuzzes {@link VolumeMetadataFile#read}: any file gives a {@link VolumeMetadata} or a
 * {@link FatalException}, never another exception. Seeds: {@code VolumeMetadataFuzzTestInputs/read/}
 * (the golden volume-v1..v3.json). CI fuzzes it with {@code -Pfuzz}.
 */
class VolumeMetadataFuzzTest {
    @RegisterExtension
    static final FuzzFile FILE = new FuzzFile("volume-meta-fuzz", "volume.json");

    @FuzzTest(maxDuration = "20s")
    void read(byte[] input) {
        try {
            VolumeMetadataFile.read(FILE.write(input));
        } catch (FatalException expected) {
            // the documented refusal
        }
    }
}
