package io.blockrep.producer.metrics;

import io.blockrep.common.link.LinkHandshake;
import io.blockrep.common.metrics.ServiceMetrics;
import io.blockrep.common.volume.Role;
import io.blockrep.producer.link.LinkListener;
import io.blockrep.producer.nbd.NbdRequestMeters;
import io.blockrep.producer.publish.PublisherStats;
import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.ReplicatedVolume;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The facility's Prometheus metrics, every name prefixed {@code blockrep_} and labelled by {@code node} (a common
 * tag) and, per volume, {@code volume}. The metric names are a contract: {@code monitoring/} queries them, and
 * {@code MetricsIT} checks that every name it queries is exported.
 *
 * <ul>
 *   <li>{@code blockrep_nbd_request_seconds} (histogram; {@code _count} is the request count), {@code blockrep_nbd_bytes_total},
 *       {@code blockrep_nbd_errors_total}, by {@code command} (READ, WRITE, FLUSH, TRIM, WRITE_ZEROES, OTHER)</li>
 *   <li>{@code blockrep_volume_mode} (1 for the current mode, 0 for the others, label {@code mode}), {@code blockrep_volume_role},
 *       {@code blockrep_volume_era}, {@code blockrep_volume_dirty_regions}, {@code blockrep_volume_dirty_bytes},
 *       {@code blockrep_volume_oldest_dirty_write_age_seconds} (the RPO exposure; 0 when nothing is dirty)</li>
 *   <li>{@code blockrep_link_up}, {@code blockrep_link_rtt_seconds} (last heartbeat round trip), {@code blockrep_link_connects_total},
 *       {@code blockrep_link_reconnects_total}, {@code blockrep_link_errors_total} (label {@code kind}: connect, session)</li>
 *   <li>{@code blockrep_kafka_publish_backlog_regions} (the bitmap outbox: dirty regions Kafka has not acknowledged),
 *       {@code blockrep_kafka_reachable}, {@code blockrep_kafka_records_sent_total}, {@code blockrep_kafka_records_acked_total},
 *       {@code blockrep_kafka_hints_dropped_total}; the Kafka clients' own metrics as {@code kafka_*}</li>
 * </ul>
 *
 * <p>With metrics disabled every method is a no-op and the NBD meter is {@link NbdRequestMeters#NONE}. Thread-safe:
 * the gauges read the volumes' thread-safe accessors at scrape time; the request meters only touch pre-made meters.
 */
public final class FacilityMetrics implements AutoCloseable {
    /** Latency buckets of NBD requests: 50 µs (a cached read) to 10 s (a write held by a cutover, a stalled peer). */
    private static final Duration[] LATENCY_BUCKETS = {
        Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000),
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10)};

    private final ServiceMetrics metrics;
    private final Clock clock;
    private final Map<String, NbdRequestMeters.ExportMeter> exports = new ConcurrentHashMap<>();
    /** What the gauges and function counters read: Micrometer holds them weakly, so a lambda alone would be collected. */
    private final List<Object> held = new CopyOnWriteArrayList<>();

    FacilityMetrics(ServiceMetrics metrics, Clock clock) {
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Serves the facility's metrics at {@code listen}, or measures nothing when it is null. */
    public static FacilityMetrics start(io.blockrep.common.config.HostPort listen, String node, Clock clock) {
        return new FacilityMetrics(ServiceMetrics.start(listen, "facility " + node, io.micrometer.core.instrument.Tags.of("node", node)),
                clock);
    }

    public boolean enabled() {
        return metrics.enabled();
    }

    /** {@code http://HOST:PORT/metrics}, when enabled. */
    public java.util.Optional<String> url() {
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

    /** The NBD server's request meters: per export, one timer, byte and error counter per command, made once. */
    public NbdRequestMeters nbd() {
        if (!enabled()) {
            return NbdRequestMeters.NONE;
        }
        return export -> exports.computeIfAbsent(export, e -> new ExportMeters(metrics.registry(), e));
    }

    /** The gauges of one volume. */
    public void volume(ReplicatedVolume v) {
        if (!enabled()) {
            return;
        }
        MeterRegistry r = metrics.registry();
        String id = v.name();
        for (Mode mode : Mode.values()) {
            Gauge.builder("blockrep.volume.mode", v, x -> x.mode() == mode ? 1 : 0).tag("volume", id).tag("mode", mode.name())
                    .description("1 for the volume's current mode, 0 for the others").register(r);
        }
        for (Role role : Role.values()) {
            Gauge.builder("blockrep.volume.role", v, x -> x.role() == role ? 1 : 0).tag("volume", id).tag("role", role.name())
                    .description("1 for the volume's current role here").register(r);
        }
        Gauge.builder("blockrep.volume.era", v, ReplicatedVolume::era).tag("volume", id).description("the open era").register(r);
        Gauge.builder("blockrep.volume.dirty.regions", v, ReplicatedVolume::dirtyRegions).tag("volume", id)
                .description("regions written here that the peer does not have yet").register(r);
        Gauge.builder("blockrep.volume.dirty.bytes", v, x -> (double) x.dirtyRegions() * x.metadata().regionSize()).tag("volume", id)
                .description("dirty regions times the region size").register(r);
        FunctionCounter.builder("blockrep.volume.dataset.bytes", v, ReplicatedVolume::dataSetBytesApplied).tag("volume", id)
                .description("bytes of data sets applied to this copy as a replica (resyncs, full copies), since start").register(r);
        Gauge.builder("blockrep.volume.oldest.dirty.write.age.seconds", v, this::oldestDirtyAgeSeconds).tag("volume", id)
                .description("age of the oldest write the peer does not have (the RPO exposure); 0 when nothing is dirty").register(r);
        if (v.asyncStats() != null) {
            Gauge.builder("blockrep.volume.async.lag.bytes", v, x -> lag(x).lagBytes()).tag("volume", id)
                    .description("async mode: bytes acknowledged here and not yet by the peer").register(r);
            Gauge.builder("blockrep.volume.async.lag.writes", v, x -> lag(x).lagWrites()).tag("volume", id)
                    .description("async mode: writes acknowledged here and not yet by the peer").register(r);
            Gauge.builder("blockrep.volume.async.lag.seconds", v, x -> lag(x).lagSeconds()).tag("volume", id)
                    .description("async mode: age of the oldest write the peer has not acknowledged (the RPO exposure)").register(r);
            Gauge.builder("blockrep.volume.async.queue.high.water.bytes", v, x -> lag(x).highWaterBytes()).tag("volume", id)
                    .description("async mode: the most bytes the queue held").register(r);
            FunctionCounter.builder("blockrep.volume.async.overflows", v, x -> lag(x).overflows()).tag("volume", id)
                    .description("async mode: times a full queue forced LOGGING").register(r);
            FunctionCounter.builder("blockrep.volume.async.drops", v, x -> lag(x).drops()).tag("volume", id)
                    .description("async mode: times the queue was dropped (full, lag past max.lag, a failed send), its regions marked dirty").register(r);
        }
    }

    private static io.blockrep.producer.replication.MirrorLag lag(ReplicatedVolume v) {
        io.blockrep.producer.replication.MirrorLag l = v.asyncStats();
        return l == null ? new io.blockrep.producer.replication.MirrorLag(0, 0, 0, 0, 0, 0, 0) : l;
    }

    private double oldestDirtyAgeSeconds(ReplicatedVolume v) {
        long oldest = v.oldestDirtyMillis();
        return oldest == 0 ? 0 : Math.max(0, clock.millis() - oldest) / 1000.0;
    }

    /** The Kafka publisher's gauges and counters, read from its stats at scrape time. */
    public void publisher(Supplier<PublisherStats> stats) {
        if (!enabled()) {
            return;
        }
        MeterRegistry r = metrics.registry();
        held.add(stats);
        Gauge.builder("blockrep.kafka.publish.backlog.regions", stats, s -> s.get().backlogRegions())
                .description("dirty regions whose record Kafka has not acknowledged yet (the bitmap outbox)").register(r);
        Gauge.builder("blockrep.kafka.reachable", stats, s -> s.get().kafkaReachable() ? 1 : 0)
                .description("1 while the dirty publisher reaches Kafka").register(r);
        FunctionCounter.builder("blockrep.kafka.records.sent", stats, s -> s.get().recordsSent())
                .description("dirty and era-closed records handed to the Kafka producer").register(r);
        FunctionCounter.builder("blockrep.kafka.records.acked", stats, s -> s.get().recordsAcked())
                .description("dirty and era-closed records Kafka acknowledged").register(r);
        FunctionCounter.builder("blockrep.kafka.hints.dropped", stats, s -> s.get().hintsDropped())
                .description("first-touch hints dropped on a full queue (their regions are published from the bitmap)").register(r);
    }

    /**
     * {@code delegate}, counting connections, reconnects and errors and keeping the last heartbeat round trip;
     * {@code up} tells whether the link is HEALTHY now.
     */
    public LinkListener link(LinkListener delegate, Supplier<Boolean> up) {
        if (!enabled()) {
            return delegate;
        }
        MeterRegistry r = metrics.registry();
        held.add(up);
        Gauge.builder("blockrep.link.up", up, u -> u.get() ? 1 : 0).description("1 while the link to the peer is HEALTHY").register(r);
        AtomicLong rttNanos = new AtomicLong(-1);
        held.add(rttNanos);
        Gauge.builder("blockrep.link.rtt.seconds", rttNanos, n -> n.get() < 0 ? Double.NaN : n.get() / 1e9)
                .description("round trip of the last heartbeat PING on the link").register(r);
        Counter connects = Counter.builder("blockrep.link.connects").description("connections to the peer made and authenticated")
                .register(r);
        Counter reconnects = Counter.builder("blockrep.link.reconnects").description("connections to the peer after the first")
                .register(r);
        Counter connectErrors = Counter.builder("blockrep.link.errors").tag("kind", "connect")
                .description("failed connect attempts (kind=connect) and connections ended by an error (kind=session)").register(r);
        Counter sessionErrors = Counter.builder("blockrep.link.errors").tag("kind", "session")
                .description("failed connect attempts (kind=connect) and connections ended by an error (kind=session)").register(r);
        return new LinkListener() {
            @Override
            public void onLinkRestored(LinkHandshake.Outcome handshake) {
                delegate.onLinkRestored(handshake);
            }

            @Override
            public void onLinkDown(String reason) {
                delegate.onLinkDown(reason);
            }

            @Override
            public void onConnected() {
                if (connects.count() >= 1) {
                    reconnects.increment();
                }
                connects.increment();
                delegate.onConnected();
            }

            @Override
            public void onLinkError(String kind, String reason) {
                ("connect".equals(kind) ? connectErrors : sessionErrors).increment();
                delegate.onLinkError(kind, reason);
            }

            @Override
            public void onRoundTrip(long nanos) {
                rttNanos.set(nanos);
                delegate.onRoundTrip(nanos);
            }
        };
    }

    @Override
    public void close() {
        metrics.close();
    }

    /** The meters of one export, indexed by command: the hot path is an array read and two or three meter updates. */
    private static final class ExportMeters implements NbdRequestMeters.ExportMeter {
        private final Timer[] latency;
        private final Counter[] bytes;
        private final Counter[] errors;

        ExportMeters(MeterRegistry r, String volume) {
            NbdRequestMeters.Command[] commands = NbdRequestMeters.Command.values();
            latency = new Timer[commands.length];
            bytes = new Counter[commands.length];
            errors = new Counter[commands.length];
            for (NbdRequestMeters.Command c : commands) {
                String command = c.name();
                latency[c.ordinal()] = Timer.builder("blockrep.nbd.request").tag("volume", volume).tag("command", command)
                        .serviceLevelObjectives(LATENCY_BUCKETS)
                        .description("NBD requests answered by the export, by latency (request handed to the export to reply queued)")
                        .register(r);
                bytes[c.ordinal()] = Counter.builder("blockrep.nbd.bytes").tag("volume", volume).tag("command", command)
                        .description("bytes read or written by NBD requests (the range of TRIM and WRITE_ZEROES)").register(r);
                errors[c.ordinal()] = Counter.builder("blockrep.nbd.errors").tag("volume", volume).tag("command", command)
                        .description("NBD requests answered with an error, refused ones included").register(r);
            }
        }

        @Override
        public void completed(NbdRequestMeters.Command command, long length, long nanos, boolean failed) {
            int i = command.ordinal();
            latency[i].record(nanos, TimeUnit.NANOSECONDS);
            if (failed) {
                errors[i].increment();
            } else if (length > 0) {
                bytes[i].increment(length);
            }
        }

        @Override
        public void refused(NbdRequestMeters.Command command) {
            errors[command.ordinal()].increment();
        }
    }
}
