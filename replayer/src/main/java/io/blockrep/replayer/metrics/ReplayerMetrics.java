package io.blockrep.replayer.metrics;

import io.blockrep.common.config.HostPort;
import io.blockrep.common.metrics.ServiceMetrics;
import io.blockrep.replayer.copy.CopyProgress;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The replayer service's Prometheus metrics, every name prefixed {@code blockrep_}, with the common tag
 * {@code replayer} (its {@code replayer.id}); replay meters are labelled by {@code volume} and {@code node} (the
 * source node of the copy). Names are a contract with {@code monitoring/} (checked by {@code MetricsIT}):
 *
 * <ul>
 *   <li>{@code blockrep_replay_bytes_total}: bytes copied to the replica (and acknowledged by it)</li>
 *   <li>{@code blockrep_replay_rate_bytes_per_second}, {@code blockrep_replay_remaining_bytes}, {@code blockrep_replay_eta_seconds}
 *       of the replay under way (0 when none; the ETA is NaN while the rate is unknown)</li>
 *   <li>{@code blockrep_replays_running}, {@code blockrep_replays_total} (finished replay steps)</li>
 *   <li>{@code blockrep_dlq_records_total}, by {@code topic} and {@code reason}: records copied to the dead-letter topic
 *       ({@link #deadLettered}); the reasons of {@link #DLQ_REASONS} exist at 0 from the start, so a first poison
 *       record shows as an increase</li>
 *   <li>the Kafka clients' own metrics as {@code kafka_*}</li>
 * </ul>
 *
 * <p>Thread-safe. With metrics disabled (no {@code replayer.metrics.listen}, and always in the one-shot ops verbs)
 * every method is a no-op.
 */
public final class ReplayerMetrics implements AutoCloseable {
    /** The dead-letter reasons registered at 0 at start (the DLQ code may report others; they appear when first used). */
    public static final List<String> DLQ_REASONS = List.of("bad-key", "bad-value", "unknown-schema");
    private static final ReplayerMetrics DISABLED = new ReplayerMetrics(ServiceMetrics.disabled(), List.of());

    private final ServiceMetrics metrics;
    private final AtomicInteger running = new AtomicInteger();
    private final Map<String, Replay> replays = new ConcurrentHashMap<>();

    private ReplayerMetrics(ServiceMetrics metrics, List<String> dlqTopics) {
        this.metrics = metrics;
        if (metrics.enabled()) {
            MeterRegistry r = metrics.registry();
            Gauge.builder("blockrep.replays.running", running, AtomicInteger::get)
                    .description("replays copying now, over all volumes of this instance").register(r);
            for (String topic : dlqTopics) {
                for (String reason : DLQ_REASONS) {
                    dlq(topic, reason);
                }
            }
        }
    }

    /** No metrics: the ops verbs, and a service without replayer.metrics.listen. */
    public static ReplayerMetrics disabled() {
        return DISABLED;
    }

    /**
     * Serves the metrics of replayer {@code id} at {@code listen} (null = {@link #disabled()}).
     *
     * @param dlqTopics the dead-letter topics whose counters exist from the start
     */
    public static ReplayerMetrics start(HostPort listen, String id, List<String> dlqTopics) {
        if (listen == null) {
            return DISABLED;
        }
        return new ReplayerMetrics(ServiceMetrics.start(listen, "replayer " + id, Tags.of("replayer", id)), dlqTopics);
    }

    public boolean enabled() {
        return metrics.enabled();
    }

    /** {@code http://HOST:PORT/metrics}, when enabled. */
    public Optional<String> url() {
        return metrics.url();
    }

    /** The current scrape (tests). */
    public String scrape() {
        return metrics.scrape();
    }

    /** Settings of a Kafka client whose metrics should be exported too. */
    public Properties kafkaClientProperties(Properties base) {
        return metrics.kafkaClientProperties(base);
    }

    /** A record of {@code topic} was copied to the dead-letter topic for {@code reason}; any thread. */
    public void deadLettered(String topic, String reason) {
        if (enabled()) {
            dlq(topic, reason).increment();
        }
    }

    private Counter dlq(String topic, String reason) {
        return Counter.builder("blockrep.dlq.records").tag("topic", topic).tag("reason", reason)
                .description("records that could not be decoded, copied as-is to the dead-letter topic and skipped")
                .register(metrics.registry());
    }

    /** Makes the replay meters of {@code volume} copied from {@code node} exist (at 0) before its first replay. */
    public void prepare(String volume, String node) {
        if (enabled()) {
            replay(volume, node);
        }
    }

    private Replay replay(String volume, String node) {
        return replays.computeIfAbsent(volume + "\u0000" + node, k -> new Replay(metrics.registry(), volume, node));
    }

    /** A copy of {@code volume} from {@code node} reported {@code p} (after a data set was acknowledged). */
    public void progress(String volume, String node, CopyProgress p) {
        if (!enabled()) {
            return;
        }
        Replay r = replay(volume, node);
        if (!r.active) {
            r.active = true;
            running.incrementAndGet();
        }
        r.report(p);
    }

    /** The replay step of {@code volume} ended (copied everything, found nothing, or failed). */
    public void ended(String volume) {
        if (!enabled()) {
            return;
        }
        replays.values().stream().filter(r -> r.volume.equals(volume) && r.active).forEach(r -> {
            r.finish();
            running.decrementAndGet();
        });
    }

    @Override
    public void close() {
        metrics.close();
    }

    /** The meters of one (volume, source node) and where its replay under way stands. */
    private static final class Replay {
        final String volume;
        final Counter bytes;
        final Counter finished;
        volatile boolean active;
        volatile double rate;
        volatile double remaining;
        volatile double eta;
        private long era = -1;
        private long lastCopied;

        Replay(MeterRegistry r, String volume, String node) {
            this.volume = volume;
            Tags tags = Tags.of("volume", volume, "node", node);
            bytes = Counter.builder("blockrep.replay.bytes").tags(tags).description("bytes copied to the replica and acknowledged")
                    .register(r);
            finished = Counter.builder("blockrep.replays").tags(tags).description("replay steps finished").register(r);
            Gauge.builder("blockrep.replay.rate.bytes.per.second", this, x -> x.rate).tags(tags)
                    .description("copy rate of the replay under way; 0 when none").register(r);
            Gauge.builder("blockrep.replay.remaining.bytes", this, x -> x.remaining).tags(tags)
                    .description("bytes left to copy in the replay under way").register(r);
            Gauge.builder("blockrep.replay.eta.seconds", this, x -> x.eta).tags(tags)
                    .description("seconds left at the current rate; NaN while unknown, 0 when no replay runs").register(r);
        }

        synchronized void report(CopyProgress p) {
            if (p.era() != era || p.bytesCopied() < lastCopied) {
                era = p.era();
                lastCopied = 0;
            }
            bytes.increment(p.bytesCopied() - lastCopied);
            lastCopied = p.bytesCopied();
            rate = p.bytesPerSecond();
            remaining = Math.max(0, p.bytesTotal() - p.bytesCopied());
            eta = p.etaSeconds() < 0 ? Double.NaN : p.etaSeconds();
        }

        synchronized void finish() {
            active = false;
            finished.increment();
            era = -1;
            lastCopied = 0;
            rate = 0;
            remaining = 0;
            eta = 0;
        }
    }
}
