package io.blockrep.common.metrics;

import io.blockrep.common.config.HostPort;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Optional;
import java.util.Properties;

/**
 * The metrics of one service process (a facility, a replayer): a Prometheus registry with the service's common
 * tags, served by a {@link MetricsServer}, and the Kafka clients' metrics bound to it. {@link #disabled()} when
 * the service has no metrics listener: nothing is measured then, so test facilities cost nothing and never
 * collide on a port.
 *
 * <p>Thread-safe; {@link #close} once, by the service's owner.
 */
public final class ServiceMetrics implements AutoCloseable {
    private static final ServiceMetrics DISABLED = new ServiceMetrics(null, null, null);

    private final PrometheusMeterRegistry registry;
    private final MetricsServer server;
    private final KafkaClientMeters kafka;

    private ServiceMetrics(PrometheusMeterRegistry registry, MetricsServer server, KafkaClientMeters kafka) {
        this.registry = registry;
        this.server = server;
        this.kafka = kafka;
    }

    public static ServiceMetrics disabled() {
        return DISABLED;
    }

    /**
     * A registry with {@code commonTags} on every meter, served at {@code listen}; {@code listen} null = {@link #disabled()}.
     *
     * @param name names the server's thread and its log line ("facility site-a")
     */
    public static ServiceMetrics start(HostPort listen, String name, Tags commonTags) {
        if (listen == null) {
            return DISABLED;
        }
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags(commonTags);
        return new ServiceMetrics(registry, MetricsServer.start(listen, registry, name), KafkaClientMeters.register(registry));
    }

    public boolean enabled() {
        return registry != null;
    }

    /** The registry; only when {@link #enabled()}. */
    public MeterRegistry registry() {
        if (registry == null) {
            throw new IllegalStateException("metrics are disabled");
        }
        return registry;
    }

    /** The text a scrape returns now (tests, diagnostics); empty when disabled. */
    public String scrape() {
        return registry == null ? "" : registry.scrape();
    }

    /** {@code http://HOST:PORT/metrics}, when enabled. */
    public Optional<String> url() {
        return server == null ? Optional.empty() : Optional.of(server.url());
    }

    /** Settings for a Kafka client whose metrics should appear here; {@code base} itself when disabled. */
    public Properties kafkaClientProperties(Properties base) {
        return kafka == null ? base : kafka.clientProperties(base);
    }

    @Override
    public void close() {
        if (registry == null) {
            return;
        }
        server.close();
        kafka.close();
        registry.close();
    }
}
