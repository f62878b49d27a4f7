package io.blockrep.replayer.index;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * How far behind MirrorMaker 2 is, seen from this replayer's cluster: the age of the newest record of
 * each peer's mirrored heartbeats topic ({@code <alias><separator>heartbeats}; MirrorMaker emits one
 * every few seconds on the peer and mirrors it with everything else, so its age is the end-to-end
 * mirror delay). Used as the reason when a resync or resolve gives up waiting for a peer's records.
 *
 * <p>Stateless; each call opens and closes its own consumer.
 */
public final class MirrorLag {
    private MirrorLag() {
    }

    /** One sentence per peer alias, e.g. {@code "site-a.heartbeats: newest record 42 s old"}. */
    public static String describe(Properties clientProperties, SourceTopics topics, Clock clock, Duration timeout) {
        if (topics.peerAliases().isEmpty()) {
            return "no mirrored peer topics are configured (replayer.mirror.policy is not default)";
        }
        List<String> parts = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(Clients.consumer(clientProperties, "blockrep-mirror-lag", null))) {
            for (String alias : topics.peerAliases()) {
                parts.add(describe(c, topics.heartbeats(alias), clock, timeout));
            }
        } catch (KafkaException e) {
            parts.add("cannot read the mirror's heartbeats: " + e);
        }
        return String.join("; ", parts);
    }

    private static String describe(KafkaConsumer<byte[], byte[]> c, String heartbeats, Clock clock, Duration timeout) {
        List<PartitionInfo> infos = c.partitionsFor(heartbeats, timeout);
        if (infos == null || infos.isEmpty()) {
            return heartbeats + " does not exist here: no heartbeat ever arrived through the mirror (is MirrorMaker 2 running?)";
        }
        List<TopicPartition> tps = infos.stream().map(i -> new TopicPartition(heartbeats, i.partition())).toList();
        c.assign(tps);
        Map<TopicPartition, Long> end = c.endOffsets(tps, timeout);
        List<TopicPartition> nonEmpty = new ArrayList<>();
        for (TopicPartition tp : tps) {
            if (end.get(tp) > 0) {
                c.seek(tp, end.get(tp) - 1);
                nonEmpty.add(tp);
            }
        }
        if (nonEmpty.isEmpty()) {
            return heartbeats + " is empty: no heartbeat arrived through the mirror yet";
        }
        long newest = Long.MIN_VALUE;
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (seen < nonEmpty.size() && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                newest = Math.max(newest, r.timestamp());
                seen++;
            }
        }
        if (newest == Long.MIN_VALUE) {
            return heartbeats + ": its newest record could not be read within " + timeout.toMillis() + " ms";
        }
        long ageMillis = clock.millis() - newest;
        return heartbeats + ": newest heartbeat " + Math.max(0, ageMillis) / 1000 + " s old (the mirror from "
                + heartbeats.substring(0, heartbeats.lastIndexOf("heartbeats")) + " is about that far behind"
                + (ageMillis > 60_000 ? ", or down" : "") + ")";
    }
}
