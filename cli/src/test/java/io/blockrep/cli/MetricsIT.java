package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockrep.producer.Facility;
import io.blockrep.producer.replication.Mode;
import io.blockrep.producer.replication.TwoSites;
import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.replayer.service.ReplayerService;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.kafka.KafkaBroker;
import io.blockrep.testkit.kafka.KafkaBrokerExtension;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics endpoints of a real facility pair and a real replayer (embedded broker, real NBD client, a real
 * outage and resync), scraped over HTTP: the {@code blockrep_} series have the values the I/O and the outage
 * imply, and every metric that {@code monitoring/}'s dashboard and alert rules query is one of the exported ones.
 */
@ExtendWith(KafkaBrokerExtension.class)
class MetricsIT {
    private static final long SIZE = 64L << 20;
    private static final Path MONITORING = Path.of("..", "monitoring");
    /** A metric name in PromQL: label names and values never start so (job=~"blockrep-.*" has a dash). */
    private static final Pattern METRIC = Pattern.compile("\\b(?:blockrep|kafka)_[A-Za-z0-9_]*[A-Za-z0-9]");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    @Test
    void bothServicesExportWhatTheDashboardAndTheAlertsQuery(KafkaBroker kafka) throws Exception {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        try (TwoSites sites = new TwoSites(dir, "vol", SIZE, kafka.bootstrapServers())
                .withPrimaryProperty("producer.metrics.listen", "127.0.0.1:0")
                .withSecondaryProperty("producer.metrics.listen", "0").start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> sites.primary().mode() == Mode.REPLICATING);
            String siteA = url(sites.siteA);
            assertThat(url(sites.siteB)).as("a bare port listens on loopback").startsWith("http://127.0.0.1:");

            List<String> mirrored = ResyncIT.randomWrites(11, 20);
            ResyncIT.qemuIo(sites.primaryUri(), mirrored);
            sites.proxy.cut();
            await().atMost(Duration.ofSeconds(10)).until(() -> sites.primary().mode() == Mode.LOGGING);
            List<String> logged = ResyncIT.randomWrites(12, 50);
            ResyncIT.qemuIo(sites.primaryUri(), logged);
            long dirtyBytes = sites.primary().dirtyRegions() * 65536;

            Scrape during = scrape(siteA);
            String vol = "node=\"site-a\",volume=\"vol\"";
            assertThat(during.sum("blockrep_nbd_request_seconds_count", "command=\"WRITE\"", vol)).as("every write issued was counted")
                    .isGreaterThanOrEqualTo(mirrored.size() + logged.size());
            assertThat(during.sum("blockrep_nbd_bytes_total", "command=\"WRITE\"", vol)).isGreaterThanOrEqualTo(writtenBytes(mirrored, logged));
            assertThat(during.sum("blockrep_nbd_request_seconds_bucket", "command=\"WRITE\"", vol, "le=\"+Inf\""))
                    .isEqualTo(during.sum("blockrep_nbd_request_seconds_count", "command=\"WRITE\"", vol));
            assertThat(during.sum("blockrep_nbd_errors_total", "command=\"WRITE\"", vol)).isZero();
            assertThat(during.sum("blockrep_volume_mode", "mode=\"LOGGING\"", vol)).isEqualTo(1);
            assertThat(during.sum("blockrep_volume_mode", vol)).as("one mode at a time").isEqualTo(1);
            assertThat(during.sum("blockrep_volume_dirty_regions", vol)).isPositive();
            assertThat(during.sum("blockrep_volume_dirty_bytes", vol)).isEqualTo(during.sum("blockrep_volume_dirty_regions", vol) * 65536);
            assertThat(during.sum("blockrep_volume_oldest_dirty_write_age_seconds", vol)).isPositive().isLessThan(120);
            assertThat(during.sum("blockrep_link_up", "node=\"site-a\"")).isZero();
            assertThat(during.sum("blockrep_link_errors_total", "node=\"site-a\"", "kind=\"session\"")).isGreaterThanOrEqualTo(1);
            assertThat(during.sum("blockrep_link_connects_total", "node=\"site-a\"")).isGreaterThanOrEqualTo(1);
            assertThat(during.sum("blockrep_kafka_publish_backlog_regions", "node=\"site-a\"")).isGreaterThanOrEqualTo(0);
            assertThat(during.families).as("the Kafka clients' own metrics").containsKey("kafka_producer_record_send_total");

            Properties r = ResyncIT.replayerProps(kafka, sites, "r-metrics");
            r.setProperty("replayer.metrics.listen", "127.0.0.1:0");
            Scrape replayerScrape;
            try (ReplayerService replayer = ReplayerService.start(ReplayerConfig.from(r, Map.of()))) {
                String replayerUrl = replayer.metrics().url().orElseThrow();
                Scrape before = scrape(replayerUrl);
                assertThat(before.sum("blockrep_dlq_records_total", "topic=\"blockrep.dirty\"")).as("exists at 0 from the start").isZero();
                assertThat(before.sum("blockrep_replay_bytes_total", "volume=\"vol\"")).isZero();
                sites.proxy.restore();
                await().atMost(Duration.ofSeconds(90)).until(() -> sites.primary().mode() == Mode.REPLICATING);
                await().atMost(Duration.ofSeconds(10)).until(() -> scrape(replayerUrl).sum("blockrep_replays_total", "volume=\"vol\"") >= 1);
                replayerScrape = scrape(replayerUrl);
            }
            ResyncIT.qemuIo(sites.primaryUri(), List.of("flush"));
            assertThat(Checksums.sha256(sites.secondaryFile())).as("replica equals source").isEqualTo(Checksums.sha256(sites.primaryFile()));

            assertThat(replayerScrape.sum("blockrep_replay_bytes_total", "volume=\"vol\"", "node=\"site-a\"", "replayer=\"r-metrics\""))
                    .as("every dirty region was copied").isGreaterThanOrEqualTo(dirtyBytes);
            assertThat(replayerScrape.sum("blockrep_replays_running")).isZero();
            assertThat(replayerScrape.families).containsKey("kafka_consumer_fetch_manager_records_lag_max");

            Scrape after = scrape(siteA);
            assertThat(after.sum("blockrep_volume_mode", "mode=\"REPLICATING\"", vol)).isEqualTo(1);
            assertThat(after.sum("blockrep_volume_dirty_regions", vol)).isZero();
            assertThat(after.sum("blockrep_volume_oldest_dirty_write_age_seconds", vol)).isZero();
            assertThat(after.sum("blockrep_link_up", "node=\"site-a\"")).isEqualTo(1);
            assertThat(after.sum("blockrep_link_reconnects_total", "node=\"site-a\"")).isGreaterThanOrEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> !Double.isNaN(scrape(siteA).sum("blockrep_link_rtt_seconds", "node=\"site-a\"")));

            Set<String> queried = queriedMetrics();
            assertThat(queried).as("the dashboard and the alerts query blockrep_ metrics").hasSizeGreaterThan(20);
            List<Scrape> all = List.of(after, scrape(url(sites.siteB)), replayerScrape);
            List<String> missing = queried.stream().filter(n -> all.stream().noneMatch(s -> s.exports(n))).toList();
            assertThat(missing).as("queried by monitoring/ but exported by neither service").isEmpty();
        }
    }

    private static String url(Facility f) {
        return f.metricsUrl().orElseThrow();
    }

    private static long writtenBytes(List<String> a, List<String> b) {
        long total = 0;
        for (List<String> list : List.of(a, b)) {
            for (String c : list) {
                String[] parts = c.split(" ");
                total += Long.parseLong(parts[parts.length - 1]);
            }
        }
        return total;
    }

    /** Every blockrep_ and kafka_ metric in the dashboard's targets and the alert rules' expressions. */
    static Set<String> queriedMetrics() throws IOException {
        Set<String> names = new TreeSet<>();
        JsonNode dashboard = new ObjectMapper().readTree(MONITORING.resolve("grafana/blockrep-dashboard.json").toFile());
        List<String> exprs = new ArrayList<>();
        dashboard.findValues("expr").forEach(e -> exprs.add(e.asText()));
        dashboard.findValues("definition").forEach(e -> exprs.add(e.asText()));
        for (String line : Files.readAllLines(MONITORING.resolve("prometheus/alerts.yml"))) {
            String t = line.trim();
            if (t.startsWith("expr:")) {
                exprs.add(t.substring("expr:".length()));
            }
        }
        assertThat(exprs).hasSizeGreaterThan(20);
        for (String e : exprs) {
            Matcher m = METRIC.matcher(e);
            while (m.find()) {
                names.add(m.group());
            }
        }
        return names;
    }

    private static Scrape scrape(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        return Scrape.parse(r.body());
    }

    /** A scrape in the Prometheus text format: metric families with their types, and the sample lines. */
    record Scrape(Map<String, String> families, List<String> samples) {
        static Scrape parse(String text) {
            Map<String, String> families = new HashMap<>();
            List<String> samples = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (line.startsWith("# TYPE ")) {
                    String[] p = line.split(" ");
                    families.put(p[2], p[3]);
                } else if (!line.isBlank() && !line.startsWith("#")) {
                    samples.add(line);
                }
            }
            return new Scrape(families, samples);
        }

        /**
         * Whether {@code name} is exported: a family, or a series of one (a histogram's _bucket, _count, _sum; a
         * counter's _total where the family is named without it).
         */
        boolean exports(String name) {
            if (families.containsKey(name)) {
                return true;
            }
            for (String suffix : List.of("_bucket", "_count", "_sum", "_total")) {
                if (name.endsWith(suffix)) {
                    String type = families.get(name.substring(0, name.length() - suffix.length()));
                    if (type != null && (suffix.equals("_total") ? type.equals("counter")
                            : type.equals("histogram") || !suffix.equals("_bucket") && type.equals("summary"))) {
                        return true;
                    }
                }
            }
            return false;
        }

        /** The sum of the samples of {@code name} that carry every one of {@code labels} ({@code key="value"}); NaN stays NaN. */
        double sum(String name, String... labels) {
            double total = 0;
            for (String s : samples) {
                int brace = s.indexOf('{');
                int space = s.lastIndexOf(' ');
                String series = brace < 0 ? s.substring(0, space) : s.substring(0, brace);
                String labelText = brace < 0 ? "" : s.substring(brace, s.lastIndexOf('}') + 1);
                if (series.equals(name) && Arrays.stream(labels).allMatch(l -> labelText.contains(l))) {
                    total += Double.parseDouble(s.substring(space + 1));
                }
            }
            return total;
        }
    }
}
