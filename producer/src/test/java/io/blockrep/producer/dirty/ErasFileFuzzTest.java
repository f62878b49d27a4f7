package io.blockrep.producer.dirty;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;

/**
 * Fuzzes {@link ErasFile#decode}: any bytes give valid {@link ErasFile.Eras} or a {@link ErasFile.CorruptErasException}
 * (which the tracker turns into "every region dirty"), never another exception. Seeds:
 * {@code ErasFileFuzzTestInputs/decode/} (the golden files of both formats). CI fuzzes it with {@code -Pfuzz}.
 */
class ErasFileFuzzTest {
    private static final Path FILE = Path.of("eras.json");

    @FuzzTest(maxDuration = "20s")
    void decode(byte[] input) {
        try {
            ErasFile.Eras eras = ErasFile.decode(FILE, input);
            if (!ErasFile.Eras.problems(eras.openEra(), eras.closedEras()).isEmpty()) {
                throw new AssertionError("decoded eras that break the rules: " + eras);
            }
        } catch (ErasFile.CorruptErasException expected) {
            // the documented refusal
        }
    }
}
