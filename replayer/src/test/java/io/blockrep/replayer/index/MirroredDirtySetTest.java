package io.blockrep.replayer.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.replayer.ReplayerConfig;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.topic.TopicLayout;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

/**
 * The merge rule of docs/two-sites.md over the local dirty topic of cluster B ({@code blockrep.dirty}) and
 * site-a's mirrored one ({@code site-a.blockrep.dirty}), without a broker: records as a consumer would
 * deliver them, topic by topic in partition order, the topics interleaved in any order.
 */
class MirroredDirtySetTest {
    private static final String LOCAL = "blockrep.dirty";
    private static final String MIRRORED = "site-a.blockrep.dirty";
    private static final SourceTopics TOPICS = SourceTopics.of(TopicLayout.defaults(),
            new ReplayerConfig.Mirror("default", List.of("site-a"), ".", Duration.ofMinutes(5)));
    private long offset;

    private ConsumerRecord<byte[], byte[]> region(String topic, long era, long region) {
        return new ConsumerRecord<>(topic, 0, offset++, DirtyKey.region("vol", "site-a", era, region).bytes(),
                Codecs.DIRTY_REGION.encode(new DirtyRegion(1000L, 65536, 1L << 30, DirtyCause.LOGGED_WRITE)));
    }

    private ConsumerRecord<byte[], byte[]> tombstone(String topic, long era, long region) {
        return new ConsumerRecord<>(topic, 0, offset++, DirtyKey.region("vol", "site-a", era, region).bytes(), null);
    }

    private ConsumerRecord<byte[], byte[]> marker(String topic, long era, long count) {
        return new ConsumerRecord<>(topic, 0, offset++, DirtyKey.eraClosed("vol", "site-a", era).bytes(),
                Codecs.ERA_CLOSED.encode(new EraClosed(2000L, count)));
    }

    private ConsumerRecord<byte[], byte[]> markerTombstone(String topic, long era) {
        return new ConsumerRecord<>(topic, 0, offset++, DirtyKey.eraClosed("vol", "site-a", era).bytes(), null);
    }

    private static RoaringBitmap of(int... regions) {
        return RoaringBitmap.bitmapOf(regions);
    }

    @Test
    void sourceTopicsAreTheLocalTopicAndOneMirroredTopicPerAlias() {
        assertThat(TOPICS.dirty()).containsExactly(LOCAL, MIRRORED);
        assertThat(TOPICS.events()).containsExactly("blockrep.events", "site-a.blockrep.events");
        assertThat(TOPICS.heartbeats("site-a")).isEqualTo("site-a.heartbeats");
        SourceTopics identity = SourceTopics.of(new TopicLayout("x."), new ReplayerConfig.Mirror("identity", List.of("site-a"), ".",
                Duration.ofMinutes(5)));
        assertThat(identity.dirty()).containsExactly("x.dirty");
        SourceTopics dash = SourceTopics.of(TopicLayout.defaults(), new ReplayerConfig.Mirror("default", List.of("a", "c"), "_",
                Duration.ofMinutes(5)));
        assertThat(dash.dirty()).containsExactly(LOCAL, "a_blockrep.dirty", "c_blockrep.dirty");
    }

    @Test
    void aMirroredLiveRecordReadAfterANewerLocalTombstoneStaysClean() {
        DirtySetIndex index = DirtySetIndex.over(TOPICS);
        // cluster B's replayer copied (vol, site-a, 3, 7) and tombstoned it locally; the rebuild reads the local topic first
        index.apply(tombstone(LOCAL, 3, 7));
        index.apply(markerTombstone(LOCAL, 3));
        index.apply(region(MIRRORED, 3, 7));
        index.apply(region(MIRRORED, 3, 8));
        index.apply(marker(MIRRORED, 3, 2));

        assertThat(index.liveRegions("vol", "site-a", 3)).isEqualTo(of(8));
        assertThat(index.closedEras("vol", "site-a")).isEmpty();
        assertThat(index.highestClosedEraReady("vol", "site-a")).isEmpty();
    }

    @Test
    void aNewerLocalTombstoneReadAfterTheMirroredLiveRecordCleansIt() {
        DirtySetIndex index = DirtySetIndex.over(TOPICS);
        index.apply(region(MIRRORED, 3, 7));
        index.apply(marker(MIRRORED, 3, 1));
        assertThat(index.highestClosedEraReady("vol", "site-a")).isEqualTo(OptionalLong.of(3));
        assertThat(index.liveRegions("vol", "site-a", 3)).isEqualTo(of(7));

        index.apply(tombstone(LOCAL, 3, 7));
        index.apply(markerTombstone(LOCAL, 3));
        assertThat(index.liveRegions("vol", "site-a", 3).isEmpty()).isTrue();
        assertThat(index.volumes()).isEmpty();
        // a mirror repeating a stretch after a MirrorMaker restart restates the same records: still clean
        index.apply(region(MIRRORED, 3, 7));
        index.apply(marker(MIRRORED, 3, 1));
        assertThat(index.volumes()).isEmpty();
    }

    @Test
    void aMirroredTombstoneCleansALocalLiveRecordAndTheReverse() {
        DirtySetIndex index = DirtySetIndex.over(TOPICS);
        index.apply(region(LOCAL, 4, 1));
        index.apply(tombstone(MIRRORED, 4, 1));
        index.apply(tombstone(MIRRORED, 4, 2));
        index.apply(region(LOCAL, 4, 2));
        assertThat(index.liveCount("vol")).isZero();
    }

    @Test
    void aMirrorBehindShowsAnEraIncompleteUntilItsMarkerArrivesThenExactlyTheEra() {
        DirtySetIndex index = DirtySetIndex.over(TOPICS);
        // site-a logged era 5 = {1, 2, 3} and closed it; the mirror has delivered a prefix only
        index.apply(region(MIRRORED, 5, 1));
        index.apply(region(MIRRORED, 5, 2));
        assertThat(index.highestClosedEraReady("vol", "site-a")).isEmpty();
        assertThat(MirrorCatchup.missing(index, "vol", "site-a", List.of(5L))).containsExactly(5L);

        index.apply(region(MIRRORED, 5, 3));
        index.apply(marker(MIRRORED, 5, 3));
        assertThat(index.highestClosedEraReady("vol", "site-a")).isEqualTo(OptionalLong.of(5));
        assertThat(index.liveRegionsThrough("vol", "site-a", 5)).isEqualTo(of(1, 2, 3));
        assertThat(MirrorCatchup.missing(index, "vol", "site-a", List.of(5L))).isEmpty();
    }

    @Test
    void aMirrorBehindOnTombstonesOnlyCopiesAgainNeverLess() {
        DirtySetIndex index = DirtySetIndex.over(TOPICS);
        // site-a's own replayer tombstoned region 1 of era 6 on cluster A; the mirror has not brought that tombstone yet
        index.apply(region(MIRRORED, 6, 1));
        index.apply(region(MIRRORED, 6, 2));
        index.apply(marker(MIRRORED, 6, 2));
        assertThat(index.liveRegionsThrough("vol", "site-a", 6)).isEqualTo(of(1, 2));
        index.apply(tombstone(MIRRORED, 6, 1));
        assertThat(index.liveRegionsThrough("vol", "site-a", 6)).isEqualTo(of(2));
    }

    @Test
    void oneTopicKeepsTheOrderRuleALaterValueRevivesAKey() {
        DirtySetIndex index = new DirtySetIndex();
        index.apply(region(LOCAL, 2, 9));
        index.apply(tombstone(LOCAL, 2, 9));
        index.apply(region(LOCAL, 2, 9));
        assertThat(index.liveRegions("vol", "site-a", 2)).isEqualTo(of(9));
        // the same within one topic of a merging index: per topic, the last record counts
        DirtySetIndex merging = DirtySetIndex.over(TOPICS);
        merging.apply(region(MIRRORED, 2, 9));
        merging.apply(tombstone(MIRRORED, 2, 9));
        merging.apply(region(MIRRORED, 2, 9));
        assertThat(merging.liveRegions("vol", "site-a", 2)).isEqualTo(of(9));
    }
}
