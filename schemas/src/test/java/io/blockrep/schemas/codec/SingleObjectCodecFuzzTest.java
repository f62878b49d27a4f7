package io.blockrep.schemas.codec;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.blockrep.schemas.PoisonRecordException;

/**
 * Fuzzes {@link SingleObjectCodec#decode} for every record type on the topic: any value decodes or
 * gives a {@link PoisonRecordException} (which the replayer skips and reports), never another exception
 * or error — in particular no {@link OutOfMemoryError} from a huge declared string, bytes or map length.
 * Seeds: {@code SingleObjectCodecFuzzTestInputs/decode/} (one encoded DirtyRegion, EraClosed and
 * VolumeEvent). CI fuzzes it with {@code -Pfuzz}.
 */
class SingleObjectCodecFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void decode(byte[] input) {
        for (RecordCodec<?> codec : new RecordCodec<?>[] {Codecs.DIRTY_REGION, Codecs.ERA_CLOSED, Codecs.VOLUME_EVENT}) {
            try {
                codec.decode(input);
            } catch (PoisonRecordException expected) {
                // the documented refusal
            }
        }
    }
}
