package io.blockrep.schemas.dlq;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** The copy a dead-letter record is: bytes and headers as they were, plus the origin headers. */
class DeadLettersTest {
    @Test
    void theCopyKeepsKeyValueAndHeadersAndSaysWhereItCameFrom() {
        RecordHeaders original = new RecordHeaders();
        original.add("trace", new byte[] {1, 2});
        byte[] key = "not a key".getBytes(StandardCharsets.UTF_8);
        byte[] value = {(byte) 0xff, 0, 1};
        ConsumerRecord<byte[], byte[]> r = new ConsumerRecord<>("blockrep.dirty", 3, 41L, 0L, TimestampType.CREATE_TIME, key.length,
                value.length, key, value, original, Optional.empty());

        ProducerRecord<byte[], byte[]> copy = DeadLetters.copyOf(r, "blockrep.dlq", "replayer", "neither   Avro\nsingle-object");

        assertThat(copy.topic()).isEqualTo("blockrep.dlq");
        assertThat(copy.key()).isEqualTo(key);
        assertThat(copy.value()).isEqualTo(value);
        Map<String, String> headers = new LinkedHashMap<>();
        for (Header h : copy.headers()) {
            headers.put(h.key(), h.key().equals("trace") ? "" + h.value().length : new String(h.value(), StandardCharsets.UTF_8));
        }
        assertThat(headers).containsExactly(Map.entry("trace", "2"), Map.entry(DeadLetters.REASON, "neither Avro single-object"),
                Map.entry(DeadLetters.TOPIC, "blockrep.dirty"), Map.entry(DeadLetters.PARTITION, "3"), Map.entry(DeadLetters.OFFSET, "41"),
                Map.entry(DeadLetters.READER, "replayer"));
    }

    @Test
    void theKindOfAPoisonRecordComesFromTheDecodersMessages() throws Exception {
        java.util.List<String> kinds = new java.util.ArrayList<>();
        for (String key : new String[] {"v1/x", null}) {
            try {
                io.blockrep.schemas.DirtyKey.parse(key == null ? null : key.getBytes(StandardCharsets.UTF_8));
            } catch (io.blockrep.schemas.PoisonRecordException e) {
                kinds.add(DeadLetters.kindOf(e.getMessage()));
            }
        }
        try {
            io.blockrep.schemas.codec.Codecs.DIRTY_REGION.decode(new byte[] {(byte) 0xC3, 1, 9, 9});
        } catch (io.blockrep.schemas.PoisonRecordException e) {
            kinds.add(DeadLetters.kindOf(e.getMessage()));
        }
        kinds.add(DeadLetters.kindOf("schema id 2139062143 of a DirtyRegion value is not in the registry: 404"));
        assertThat(kinds).containsExactly(DeadLetters.BAD_KEY, DeadLetters.BAD_KEY, DeadLetters.BAD_VALUE, DeadLetters.UNKNOWN_SCHEMA);
    }
}
