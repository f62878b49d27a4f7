package io.blockrep.producer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.config.HostPort;
import io.blockrep.producer.link.LinkListener;
import io.blockrep.producer.nbd.NbdRequestMeters;
import io.blockrep.producer.nbd.NbdRequestMeters.Command;
import io.blockrep.producer.publish.PublisherStats;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The facility's meters against a real Prometheus registry: what a scrape shows after known events. */
class FacilityMetricsTest {

    private static FacilityMetrics started() {
        return FacilityMetrics.start(new HostPort("127.0.0.1", 0), "site-a", Clock.systemUTC());
    }

    @Test
    void nbdRequestsAreCountedTimedAndSizedPerVolumeAndCommand() {
        try (FacilityMetrics m = started()) {
            NbdRequestMeters.ExportMeter vol1 = m.nbd().forExport("vol1");
            assertThat(m.nbd().forExport("vol1")).as("one set of meters per export, shared by its connections").isSameAs(vol1);
            vol1.completed(Command.WRITE, 4096, 300_000, false);
            vol1.completed(Command.WRITE, 8192, 20_000_000, false);
            vol1.completed(Command.READ, 512, 40_000, false);
            vol1.completed(Command.FLUSH, 0, 1_000_000, true);
            vol1.refused(Command.WRITE);

            String text = m.scrape();
            assertThat(text).contains("blockrep_nbd_request_seconds_count{command=\"WRITE\",node=\"site-a\",volume=\"vol1\"} 2");
            assertThat(text).contains("blockrep_nbd_bytes_total{command=\"WRITE\",node=\"site-a\",volume=\"vol1\"} 12288.0");
            assertThat(text).contains("blockrep_nbd_bytes_total{command=\"READ\",node=\"site-a\",volume=\"vol1\"} 512.0");
            assertThat(text).contains("blockrep_nbd_errors_total{command=\"FLUSH\",node=\"site-a\",volume=\"vol1\"} 1.0");
            assertThat(text).contains("blockrep_nbd_errors_total{command=\"WRITE\",node=\"site-a\",volume=\"vol1\"} 1.0");
            // 300 µs lands in the 0.5 ms bucket, 20 ms only from the 25 ms one up
            assertThat(text).contains("blockrep_nbd_request_seconds_bucket{command=\"WRITE\",node=\"site-a\",volume=\"vol1\",le=\"5.0E-4\"} 1");
            assertThat(text).contains("blockrep_nbd_request_seconds_bucket{command=\"WRITE\",node=\"site-a\",volume=\"vol1\",le=\"0.025\"} 2");
        }
    }

    @Test
    void disabledMetricsMeterNothing() {
        try (FacilityMetrics m = FacilityMetrics.start(null, "site-a", Clock.systemUTC())) {
            assertThat(m.enabled()).isFalse();
            assertThat(m.nbd()).isSameAs(NbdRequestMeters.NONE);
            LinkListener plain = new Recording();
            assertThat(m.link(plain, () -> true)).isSameAs(plain);
            assertThat(m.url()).isEmpty();
        }
    }

    @Test
    void theLinkListenerCountsConnectsReconnectsAndErrorsAndForwardsEverything() {
        try (FacilityMetrics m = started()) {
            AtomicReference<Boolean> up = new AtomicReference<>(false);
            Recording delegate = new Recording();
            LinkListener l = m.link(delegate, up::get);
            assertThat(m.scrape()).contains("blockrep_link_rtt_seconds{node=\"site-a\"} NaN");

            l.onLinkError("connect", "refused");
            l.onConnected();
            l.onRoundTrip(2_500_000);
            up.set(true);
            l.onLinkError("session", "no ACK");
            l.onLinkDown("no ACK");
            l.onConnected();

            String text = m.scrape();
            assertThat(text).contains("blockrep_link_connects_total{node=\"site-a\"} 2.0");
            assertThat(text).contains("blockrep_link_reconnects_total{node=\"site-a\"} 1.0");
            assertThat(text).contains("blockrep_link_errors_total{kind=\"connect\",node=\"site-a\"} 1.0");
            assertThat(text).contains("blockrep_link_errors_total{kind=\"session\",node=\"site-a\"} 1.0");
            assertThat(text).contains("blockrep_link_rtt_seconds{node=\"site-a\"} 0.0025");
            assertThat(text).contains("blockrep_link_up{node=\"site-a\"} 1.0");
            assertThat(delegate.calls).containsExactly("error connect", "connected", "rtt 2500000", "error session", "down no ACK",
                    "connected");
        }
    }

    @Test
    void thePublisherBacklogIsReadAtScrapeTime() {
        try (FacilityMetrics m = started()) {
            AtomicReference<PublisherStats> stats = new AtomicReference<>(stats(true, 0, 10, 10));
            m.publisher(stats::get);
            assertThat(m.scrape()).contains("blockrep_kafka_publish_backlog_regions{node=\"site-a\"} 0.0")
                    .contains("blockrep_kafka_reachable{node=\"site-a\"} 1.0");
            stats.set(stats(false, 42, 15, 11));
            // Regression: Micrometer holds a gauge's object weakly; the supplier (here a method reference, as in
            // Facility) read NaN once collected.
            System.gc();
            String text = m.scrape();
            assertThat(text).contains("blockrep_kafka_publish_backlog_regions{node=\"site-a\"} 42.0")
                    .contains("blockrep_kafka_reachable{node=\"site-a\"} 0.0")
                    .contains("blockrep_kafka_records_sent_total{node=\"site-a\"} 15.0")
                    .contains("blockrep_kafka_records_acked_total{node=\"site-a\"} 11.0");
        }
    }

    private static PublisherStats stats(boolean reachable, long backlog, long sent, long acked) {
        return new PublisherStats(reachable, backlog, sent, acked, 0, Optional.empty(), false, PublisherStats.Restarts.NONE);
    }

    private static final class Recording implements LinkListener {
        final List<String> calls = new ArrayList<>();

        @Override
        public void onLinkRestored(io.blockrep.common.link.LinkHandshake.Outcome handshake) {
            calls.add("restored");
        }

        @Override
        public void onLinkDown(String reason) {
            calls.add("down " + reason);
        }

        @Override
        public void onConnected() {
            calls.add("connected");
        }

        @Override
        public void onLinkError(String kind, String reason) {
            calls.add("error " + kind);
        }

        @Override
        public void onRoundTrip(long nanos) {
            calls.add("rtt " + nanos);
        }
    }
}
