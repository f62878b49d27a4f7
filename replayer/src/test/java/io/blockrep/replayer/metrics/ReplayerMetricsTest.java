package io.blockrep.replayer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.config.HostPort;
import io.blockrep.replayer.copy.CopyProgress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The replayer's meters against a real Prometheus registry. */
class ReplayerMetricsTest {
    private static final String TAGS = "node=\"site-a\",replayer=\"r1\",volume=\"vol1\"";

    private static ReplayerMetrics started() {
        return ReplayerMetrics.start(new HostPort("127.0.0.1", 0), "r1", List.of("blockrep.dirty", "blockrep.events"));
    }

    @Test
    void deadLetterCountersExistAtZeroFromTheStartAndCountByTopicAndReason() {
        try (ReplayerMetrics m = started()) {
            for (String reason : ReplayerMetrics.DLQ_REASONS) {
                assertThat(m.scrape()).contains("blockrep_dlq_records_total{reason=\"" + reason + "\",replayer=\"r1\",topic=\"blockrep.dirty\"} 0.0");
            }
            m.deadLettered("blockrep.dirty", "bad-value");
            m.deadLettered("blockrep.dirty", "bad-value");
            m.deadLettered("blockrep.events", "something-new");
            assertThat(m.scrape())
                    .contains("blockrep_dlq_records_total{reason=\"bad-value\",replayer=\"r1\",topic=\"blockrep.dirty\"} 2.0")
                    .contains("blockrep_dlq_records_total{reason=\"something-new\",replayer=\"r1\",topic=\"blockrep.events\"} 1.0");
        }
    }

    @Test
    void aReplayCountsItsBytesOnceAndShowsRateAndEtaWhileItRuns() {
        try (ReplayerMetrics m = started()) {
            m.prepare("vol1", "site-a");
            assertThat(m.scrape()).contains("blockrep_replay_bytes_total{" + TAGS + "} 0.0").contains("blockrep_replays_running{replayer=\"r1\"} 0.0");

            // 1 MiB of 4 MiB after 1 s, then 3 MiB after 3 s: cumulative figures, counted as deltas
            m.progress("vol1", "site-a", new CopyProgress("vol1", 7, 4 << 20, 1 << 20, 64, 16, 0, 1_000_000_000L));
            m.progress("vol1", "site-a", new CopyProgress("vol1", 7, 4 << 20, 3 << 20, 64, 48, 0, 3_000_000_000L));
            String during = m.scrape();
            assertThat(during).contains("blockrep_replay_bytes_total{" + TAGS + "} 3145728.0")
                    .contains("blockrep_replays_running{replayer=\"r1\"} 1.0")
                    .contains("blockrep_replay_rate_bytes_per_second{" + TAGS + "} 1048576.0")
                    .contains("blockrep_replay_remaining_bytes{" + TAGS + "} 1048576.0")
                    .contains("blockrep_replay_eta_seconds{" + TAGS + "} 1.0");

            m.ended("vol1");
            // the next era's pass starts from 0 again
            m.progress("vol1", "site-a", new CopyProgress("vol1", 8, 1 << 20, 1 << 20, 16, 16, 0, 500_000_000L));
            m.ended("vol1");
            String after = m.scrape();
            assertThat(after).contains("blockrep_replay_bytes_total{" + TAGS + "} 4194304.0")
                    .contains("blockrep_replays_total{" + TAGS + "} 2.0")
                    .contains("blockrep_replays_running{replayer=\"r1\"} 0.0")
                    .contains("blockrep_replay_rate_bytes_per_second{" + TAGS + "} 0.0")
                    .contains("blockrep_replay_eta_seconds{" + TAGS + "} 0.0");
        }
    }

    @Test
    void anUnknownRateShowsAsAnUnknownEta() {
        try (ReplayerMetrics m = started()) {
            m.progress("vol1", "site-a", new CopyProgress("vol1", 1, 1 << 20, 0, 16, 0, 0, 0));
            assertThat(m.scrape()).contains("blockrep_replay_eta_seconds{" + TAGS + "} NaN");
        }
    }

    @Test
    void disabledIsSilent() {
        ReplayerMetrics off = ReplayerMetrics.disabled();
        off.deadLettered("t", "r");
        off.progress("vol1", "site-a", new CopyProgress("vol1", 1, 1, 1, 1, 1, 0, 1));
        off.ended("vol1");
        assertThat(off.enabled()).isFalse();
        assertThat(off.scrape()).isEmpty();
        assertThat(off.url()).isEmpty();
    }
}
