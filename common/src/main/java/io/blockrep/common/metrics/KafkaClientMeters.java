package io.blockrep.common.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds the metrics of every Kafka client a service creates to its meter registry, as a Kafka
 * {@link MetricsReporter}: the client itself adds and removes its metrics here, so a client that a publisher
 * recreates after a failure, or closes, needs no binding code at the place it is created. A service passes
 * {@link #clientProperties} to its clients; nothing else changes where they are made.
 *
 * <p>Names follow Micrometer's {@code KafkaClientMetrics}: {@code kafka.<group without -metrics>.<name>}, dashes
 * as dots, so {@code producer-metrics/record-send-total} is {@code kafka_producer_record_send_total} in Prometheus;
 * cumulative metrics ({@code -total}) are counters, the rest gauges, non-numeric ones (versions) left out. Tags
 * are the Kafka metric's tags ({@code client-id}, {@code topic}, {@code node-id}...). A name already registered
 * with other tag keys (Kafka reports some metrics both per client and per topic) keeps its first tag keys; the
 * other variant is left out, as Prometheus needs one label set per name.
 *
 * <p>Thread-safe: Kafka calls the reporter from its client's threads.
 */
public final class KafkaClientMeters {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaClientMeters.class);
    /** The client setting that names the registry; a string, so it survives the copies of client properties. */
    public static final String REGISTRY_ID = "blockrep.metrics.registry.id";
    private static final String JMX_REPORTER = "org.apache.kafka.common.metrics.JmxReporter";
    private static final Map<String, Registered> REGISTRIES = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();

    private final String id;

    private KafkaClientMeters(String id) {
        this.id = id;
    }

    /** Makes {@code registry} reachable from client settings until {@link #close}. */
    static KafkaClientMeters register(MeterRegistry registry) {
        String id = "registry-" + IDS.incrementAndGet() + "-" + ProcessHandle.current().pid();
        REGISTRIES.put(id, new Registered(registry, new ConcurrentHashMap<>()));
        return new KafkaClientMeters(id);
    }

    /**
     * {@code base} plus the reporter: the clients made from the result report their metrics to the registry.
     * The operator's own {@code metric.reporters} are kept, and so is Kafka's JMX reporter (its default).
     */
    Properties clientProperties(Properties base) {
        Properties p = new Properties();
        p.putAll(base);
        String reporters = base.getProperty("metric.reporters");
        String own = Reporter.class.getName();
        p.setProperty("metric.reporters", reporters == null || reporters.isBlank() ? JMX_REPORTER + "," + own : reporters + "," + own);
        p.setProperty(REGISTRY_ID, id);
        return p;
    }

    void close() {
        REGISTRIES.remove(id);
    }

    /** A registry and the tag keys each meter name was first registered with. */
    private record Registered(MeterRegistry registry, Map<String, Set<String>> tagKeys) {
    }

    /** The Kafka side: one instance per client, made by the client from {@code metric.reporters}. */
    public static final class Reporter implements MetricsReporter {
        private Registered target;
        private final Map<MetricName, Meter> meters = new ConcurrentHashMap<>();

        @Override
        public void configure(Map<String, ?> configs) {
            Object id = configs.get(REGISTRY_ID);
            target = id == null ? null : REGISTRIES.get(id.toString());
        }

        @Override
        public void init(List<KafkaMetric> metrics) {
            metrics.forEach(this::metricChange);
        }

        @Override
        public void metricChange(KafkaMetric metric) {
            try {
                bind(metric);
            } catch (RuntimeException e) {
                // a metric the registry refuses (a name clash) is left out; the client and its other metrics go on
                LOG.debug("Kafka metric {} not exported: {}", metric.metricName(), e.toString());
            }
        }

        private void bind(KafkaMetric metric) {
            Registered t = target;
            if (t == null || !(metric.metricValue() instanceof Number)) {
                return;
            }
            MetricName n = metric.metricName();
            String group = n.group().endsWith("-metrics") ? n.group().substring(0, n.group().length() - "-metrics".length()) : n.group();
            boolean cumulative = n.name().endsWith("-total");
            String name = "kafka." + (group + "." + (cumulative ? n.name().substring(0, n.name().length() - "-total".length()) : n.name()))
                    .replace('-', '.');
            List<Tag> tags = new ArrayList<>();
            n.tags().forEach((k, v) -> tags.add(Tag.of(k, v)));
            Set<String> keys = Set.copyOf(n.tags().keySet());
            if (!t.tagKeys().computeIfAbsent(name + (cumulative ? "#counter" : "#gauge"), k -> keys).equals(keys)) {
                return;
            }
            metricRemoval(metric);
            Meter meter = cumulative
                    ? FunctionCounter.builder(name, metric, KafkaClientMeters::value).tags(tags).description(n.description())
                            .register(t.registry())
                    : Gauge.builder(name, metric, KafkaClientMeters::value).tags(tags).description(n.description())
                            .register(t.registry());
            meters.put(n, meter);
        }

        @Override
        public void metricRemoval(KafkaMetric metric) {
            Meter m = meters.remove(metric.metricName());
            Registered t = target;
            if (m != null && t != null) {
                t.registry().remove(m);
            }
        }

        @Override
        public void close() {
            Registered t = target;
            if (t != null) {
                meters.values().forEach(t.registry()::remove);
            }
            meters.clear();
        }
    }

    private static double value(KafkaMetric metric) {
        return metric.metricValue() instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
