package io.blockrep.common.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.config.HostPort;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Tags;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.apache.kafka.common.metrics.Sensor;
import org.apache.kafka.common.metrics.stats.CumulativeSum;
import org.apache.kafka.common.metrics.stats.Value;
import org.apache.kafka.common.utils.Time;
import org.junit.jupiter.api.Test;

/** The metrics listener, its address syntax, and the bridge of Kafka client metrics. */
class ServiceMetricsTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void listenTakesHostPortOrABarePortOnLoopback() {
        assertThat(MetricsListen.parse("9404")).isEqualTo(new HostPort("127.0.0.1", 9404));
        assertThat(MetricsListen.parse("0.0.0.0:9405")).isEqualTo(new HostPort("0.0.0.0", 9405));
        assertThat(MetricsListen.VALIDATOR.check("70000")).contains("outside 0..65535");
        assertThat(MetricsListen.VALIDATOR.check("localhost")).contains("HOST:PORT or PORT");
        assertThat(MetricsListen.VALIDATOR.check("localhost:0")).isNull();
    }

    @Test
    void servesThePrometheusTextAtSlashMetricsOnly() throws Exception {
        try (ServiceMetrics m = ServiceMetrics.start(new HostPort("127.0.0.1", 0), "test", Tags.of("node", "site-a"))) {
            Counter.builder("blockrep.test.things").tag("volume", "vol1").register(m.registry()).increment(3);
            String url = m.url().orElseThrow();
            assertThat(url).startsWith("http://127.0.0.1:").endsWith("/metrics");

            HttpResponse<String> ok = get(url, "GET");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.headers().firstValue("Content-Type")).hasValue(MetricsServer.CONTENT_TYPE);
            assertThat(ok.body()).contains("blockrep_test_things_total{node=\"site-a\",volume=\"vol1\"} 3.0");

            assertThat(get(url.replace("/metrics", "/other"), "GET").statusCode()).isEqualTo(404);
            assertThat(get(url, "POST").statusCode()).isEqualTo(405);
        }
    }

    @Test
    void disabledMeasuresNothingAndLeavesClientSettingsAlone() {
        ServiceMetrics off = ServiceMetrics.disabled();
        Properties base = new Properties();
        base.setProperty("bootstrap.servers", "x:9092");
        assertThat(off.enabled()).isFalse();
        assertThat(off.url()).isEmpty();
        assertThat(off.kafkaClientProperties(base)).isSameAs(base);
        assertThatThrownBy(off::registry).isInstanceOf(IllegalStateException.class);
        off.close();
    }

    /** Through Kafka's own Metrics class, as a client reports: metrics appear, follow their values, and go with the client. */
    @Test
    void kafkaClientMetricsReachTheRegistryAndLeaveWithTheClient() throws Exception {
        try (ServiceMetrics m = ServiceMetrics.start(new HostPort("127.0.0.1", 0), "test", Tags.empty())) {
            Properties props = m.kafkaClientProperties(new Properties());
            assertThat(props.getProperty("metric.reporters")).isEqualTo("org.apache.kafka.common.metrics.JmxReporter,"
                    + KafkaClientMeters.Reporter.class.getName());
            MetricsReporter reporter = new KafkaClientMeters.Reporter();
            reporter.configure(Map.of(KafkaClientMeters.REGISTRY_ID, props.getProperty(KafkaClientMeters.REGISTRY_ID)));
            Metrics client = new Metrics(new MetricConfig(), List.of(reporter), Time.SYSTEM);
            Sensor sent = client.sensor("sent");
            sent.add(new MetricName("record-send-total", "producer-metrics", "", Map.of("client-id", "p1")), new CumulativeSum());
            sent.add(new MetricName("record-size-last", "producer-metrics", "", Map.of("client-id", "p1")), new Value());
            sent.record(5);
            sent.record(7);

            String text = m.scrape();
            assertThat(text).contains("kafka_producer_record_send_total{client_id=\"p1\"} 12.0");
            assertThat(text).contains("kafka_producer_record_size_last{client_id=\"p1\"} 7.0");

            client.close();
            assertThat(m.scrape()).doesNotContain("kafka_producer_record_send");
        }
    }

    @Test
    void anOperatorsOwnReportersAreKept() {
        try (ServiceMetrics m = ServiceMetrics.start(new HostPort("127.0.0.1", 0), "test", Tags.empty())) {
            Properties base = new Properties();
            base.setProperty("metric.reporters", "com.example.Reporter");
            assertThat(m.kafkaClientProperties(base).getProperty("metric.reporters"))
                    .isEqualTo("com.example.Reporter," + KafkaClientMeters.Reporter.class.getName());
        }
    }

    private HttpResponse<String> get(String url, String method) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
