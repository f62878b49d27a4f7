package io.blockrep.common.link;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Fuzzes the link's frame and message decoders. Contract ({@link LinkFrame}): bad input gives a
 * {@link LinkProtocolException} ({@link EOFException} for a stream ending between frames), nothing else;
 * any other exception or error fails the run. Each input is tried as a raw frame and, so the fuzzer gets
 * past the CRC to the message decoder, again with its CRC32C trailer recomputed.
 * Seeds: {@code LinkDecoderFuzzTestInputs/decode/} (the golden frames). CI fuzzes it with {@code -Pfuzz}.
 */
class LinkDecoderFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void decode(byte[] input) throws IOException {
        decodeAll(input);
        if (input.length >= LinkFrame.HEADER_BYTES + LinkFrame.TRAILER_BYTES) {
            byte[] fixed = input.clone();
            CRC32C crc = new CRC32C();
            crc.update(fixed, 0, fixed.length - LinkFrame.TRAILER_BYTES);
            ByteBuffer.wrap(fixed).putInt(fixed.length - LinkFrame.TRAILER_BYTES, (int) crc.getValue());
            decodeAll(fixed);
        }
    }

    private static void decodeAll(byte[] input) throws IOException {
        try {
            LinkMessage.decode(LinkFrame.decode(input));
        } catch (LinkProtocolException expected) {
            // the documented refusal
        }
        ByteArrayInputStream in = new ByteArrayInputStream(input);
        try {
            while (true) {
                LinkMessage.decode(LinkFrame.read(in, ByteBuffer.allocate(256)));
            }
        } catch (EOFException | LinkProtocolException expected) {
            // a clean end, or the documented refusal
        }
        try {
            LinkFrame.read(new ByteArrayInputStream(input), LinkFrame.PRE_AUTH_MAX_PAYLOAD);
        } catch (EOFException | LinkProtocolException expected) {
            // as above
        }
    }
}
