package io.blockrep.schemas.dlq;

import io.blockrep.schemas.PoisonRecordException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dead-letter writer: copies a record a reader cannot decode, as it is (key, value, headers), to
 * the dead-letter topic ({@link io.blockrep.schemas.topic.TopicLayout#dlq()}), adding headers that
 * say why and where it came from: {@value #REASON} (short text), {@value #TOPIC}, {@value #PARTITION},
 * {@value #OFFSET} and {@value #READER} (which reader gave up on it, e.g. {@code replayer}).
 *
 * <p>Counting: {@link #count()} is the number of records handed over; the {@link Listener} hears of
 * each one as it is handed over (the hook for a {@code blockrep_dlq_records_total} counter). A copy that
 * Kafka does not take is logged at WARN and not retried: the original stays in its topic, and a reader
 * that reads it again hands it over again.
 *
 * <p>Thread-safe (KafkaProducer is). {@link #poison} never blocks on Kafka for longer than the
 * producer's {@code max.block.ms} and never throws.
 */
public final class DeadLetters implements PoisonSink, AutoCloseable {
    public static final String REASON = "blockrep.dlq.reason";
    public static final String TOPIC = "blockrep.dlq.topic";
    public static final String PARTITION = "blockrep.dlq.partition";
    public static final String OFFSET = "blockrep.dlq.offset";
    public static final String READER = "blockrep.dlq.reader";
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);
    private static final int MAX_REASON = 500;

    /** Told of each record handed to the dead-letter topic, on the caller's thread. Must not throw. */
    @FunctionalInterface
    public interface Listener {
        Listener NONE = (topic, kind) -> {
        };

        /** {@code sourceTopic}: where the record came from; {@code kind}: its {@link PoisonRecordException.Kind#label()} (a metric label). */
        void deadLettered(String sourceTopic, String kind);
    }

    private final KafkaProducer<byte[], byte[]> producer;
    private final String dlqTopic;
    private final String reader;
    private final Listener listener;
    private final AtomicLong count = new AtomicLong();

    /**
     * @param clientProperties bootstrap servers and other client settings (security); serializers are set here
     * @param dlqTopic         the dead-letter topic
     * @param reader           the name of the reader, the {@value #READER} header
     */
    public DeadLetters(Properties clientProperties, String dlqTopic, String reader, Listener listener) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.remove("group.id");
        p.remove("auto.offset.reset");
        p.remove("enable.auto.commit");
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "blockrep-dlq-" + reader);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
        p.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        this.producer = new KafkaProducer<>(p);
        this.dlqTopic = Objects.requireNonNull(dlqTopic, "dlqTopic");
        this.reader = Objects.requireNonNull(reader, "reader");
        this.listener = listener == null ? Listener.NONE : listener;
    }

    /** The record as the dead-letter topic receives it: same key, value and headers, plus the origin headers. */
    public static ProducerRecord<byte[], byte[]> copyOf(ConsumerRecord<byte[], byte[]> r, String dlqTopic, String reader, String reason) {
        return new ProducerRecord<>(dlqTopic, null, null, r.key(), r.value(),
                headers(r.headers(), r.topic(), r.partition(), r.offset(), reader, reason));
    }

    /**
     * A poison record's headers as every dead-letter writer sends them (this class, and the status app's
     * Streams sink): its own headers, then {@value #REASON} (abbreviated, one line), {@value #TOPIC},
     * {@value #PARTITION}, {@value #OFFSET} and {@value #READER}.
     */
    public static Headers headers(Headers original, String topic, int partition, long offset, String reader, String reason) {
        RecordHeaders headers = new RecordHeaders();
        for (Header h : original) {
            headers.add(h.key(), h.value());
        }
        headers.add(REASON, utf8(abbreviate(reason)));
        headers.add(TOPIC, utf8(topic));
        headers.add(PARTITION, utf8(Integer.toString(partition)));
        headers.add(OFFSET, utf8(Long.toString(offset)));
        headers.add(READER, utf8(reader));
        return headers;
    }

    @Override
    public void poison(ConsumerRecord<byte[], byte[]> record, PoisonRecordException why) {
        count.incrementAndGet();
        String reason = why.getMessage() == null ? why.getClass().getSimpleName() : why.getMessage();
        try {
            listener.deadLettered(record.topic(), why.kind().label());
        } catch (RuntimeException e) {
            LOG.warn("dead-letter listener failed", e);
        }
        try {
            producer.send(copyOf(record, dlqTopic, reader, reason), (md, e) -> {
                if (e != null) {
                    LOG.warn("copying poison record {}-{}@{} to {} failed (it stays in its topic): {}", record.topic(), record.partition(),
                            record.offset(), dlqTopic, e.toString());
                }
            });
        } catch (KafkaException | IllegalStateException e) {
            LOG.warn("copying poison record {}-{}@{} to {} failed (it stays in its topic): {}", record.topic(), record.partition(),
                    record.offset(), dlqTopic, e.toString());
        }
    }

    /** Records handed to the dead-letter topic so far. */
    public long count() {
        return count.get();
    }

    /** Waits for the copies handed over so far to be acknowledged (or to fail). */
    public void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }

    private static String abbreviate(String reason) {
        String r = reason == null ? "" : reason.strip().replaceAll("\\s+", " ");
        return r.length() <= MAX_REASON ? r : r.substring(0, MAX_REASON) + "...";
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
