package io.blockrep.schemas.dlq;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.registry.DualFormatCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
    void eachDecoderNamesTheKindOfPoisonItFound() {
        List<PoisonRecordException.Kind> kinds = new ArrayList<>();
        for (String key : new String[] {"v1/x", null}) {
            try {
                DirtyKey.parse(key == null ? null : key.getBytes(StandardCharsets.UTF_8));
            } catch (PoisonRecordException e) {
                kinds.add(e.kind());
            }
        }
        try {
            Codecs.DIRTY_REGION.decode(new byte[] {(byte) 0xC3, 1, 9, 9});
        } catch (PoisonRecordException e) {
            kinds.add(e.kind());
        }
        try {
            DualFormatCodec.withoutRegistry(Codecs.DIRTY_REGION).decode(new byte[] {0, 0x7f, 0x7f, 0x7f, 0x7f, 2});
        } catch (PoisonRecordException e) {
            kinds.add(e.kind());
        }
        assertThat(kinds).containsExactly(PoisonRecordException.Kind.BAD_KEY, PoisonRecordException.Kind.BAD_KEY,
                PoisonRecordException.Kind.BAD_VALUE, PoisonRecordException.Kind.UNKNOWN_SCHEMA);
        assertThat(kinds).extracting(PoisonRecordException.Kind::label).containsExactly("bad-key", "bad-key", "bad-value", "unknown-schema");
    }
}
