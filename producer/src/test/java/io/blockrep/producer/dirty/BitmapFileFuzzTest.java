package io.blockrep.producer.dirty;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.blockrep.common.FatalException;
import io.blockrep.common.fuzz.FuzzFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Fuzzes {@link BitmapFile#open} and {@link BitmapFile#readHeader}: any file opens or gives a
 * {@link FatalException}, never another exception. Each input is tried as is and with its header CRC32C
 * recomputed, so the fuzzer reaches the field checks and the bit pages. Seeds:
 * {@code BitmapFileFuzzTestInputs/open/} (the golden bitmap). CI fuzzes it with {@code -Pfuzz}.
 */
class BitmapFileFuzzTest {
    @RegisterExtension
    static final FuzzFile FILE = new FuzzFile("bitmap-fuzz", "fuzz.bitmap");

    @FuzzTest(maxDuration = "20s")
    void open(byte[] input) {
        tryOpen(input);
        if (input.length >= 4096) {
            byte[] fixed = input.clone();
            CRC32C crc = new CRC32C();
            crc.update(fixed, 0, 4092);
            ByteBuffer.wrap(fixed).order(ByteOrder.LITTLE_ENDIAN).putInt(4092, (int) crc.getValue());
            tryOpen(fixed);
        }
    }

    private static void tryOpen(byte[] bytes) {
        Path file = FILE.write(bytes);
        try {
            BitmapFile.readHeader(file);
        } catch (FatalException expected) {
            // the documented refusal
        }
        try (BitmapFile f = BitmapFile.open(file, BitmapFileTest.HEADER)) {
            f.header();
        } catch (FatalException expected) {
            // the documented refusal
        }
    }
}
