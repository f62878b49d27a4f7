package io.blockrep.replayer.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.registry.RegistryCodecs;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** Records the index cannot decode go to its poison sink with a reason, and nothing of them is applied. */
class DirtySetIndexPoisonTest {
    private record Poisoned(long offset, String reason, PoisonRecordException.Kind kind) {
    }

    private final List<Poisoned> poisoned = new ArrayList<>();
    private final DirtySetIndex index = new DirtySetIndex(RegistryCodecs.withoutRegistry(), (r, why) -> poisoned.add(new Poisoned(r.offset(), why.getMessage(), why.kind())));
    private long offset;

    private DirtySetIndex.Applied apply(byte[] key, byte[] value) {
        return index.apply(new ConsumerRecord<>("blockrep.dirty", 0, offset++, key, value));
    }

    @Test
    void garbageUnknownFramingAndBadKeysArePoisonAndReachTheSink() {
        byte[] key = DirtyKey.region("vol", "site-a", 1, 7).bytes();
        byte[] good = Codecs.DIRTY_REGION.encode(new DirtyRegion(1L, 65_536, 1L << 20, DirtyCause.LOGGED_WRITE));

        assertThat(apply(key, "garbage".getBytes(StandardCharsets.UTF_8))).isEqualTo(DirtySetIndex.Applied.POISON);
        assertThat(apply(key, new byte[] {0, 0, 0, 0, 9, 1})).isEqualTo(DirtySetIndex.Applied.POISON);
        assertThat(apply("vol/site-a/x".getBytes(StandardCharsets.UTF_8), good)).isEqualTo(DirtySetIndex.Applied.POISON);
        assertThat(apply(key, good)).isEqualTo(DirtySetIndex.Applied.REGION_ADDED);

        assertThat(poisoned).extracting(Poisoned::offset).containsExactly(0L, 1L, 2L);
        assertThat(poisoned.get(0).reason()).contains("neither Avro single-object encoding");
        assertThat(poisoned.get(1).reason()).contains("schema id 9").contains("no schema registry is configured");
        assertThat(poisoned.get(2).reason()).contains("not a dirty key");
        assertThat(poisoned).extracting(Poisoned::kind).as("the kind the decoder gave, the DLQ metric's label")
                .containsExactly(PoisonRecordException.Kind.BAD_VALUE, PoisonRecordException.Kind.UNKNOWN_SCHEMA, PoisonRecordException.Kind.BAD_KEY);
        assertThat(index.poisonRecords()).isEqualTo(3);
        assertThat(index.liveCount("vol")).isEqualTo(1);
    }
}
