package io.blockrep.replayer.index;

import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.dlq.PoisonSink;
import io.blockrep.schemas.registry.RegistryCodecs;
import io.blockrep.schemas.registry.SchemaRegistryUnavailableException;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's view of the dirty topic: a member of consumer group {@code groupId} that owns the
 * volumes of its assigned partitions. On assignment it rebuilds those partitions from the beginning
 * (the compacted topic <i>is</i> the dirty set) into {@link #index()}; on revocation or loss it drops
 * their volumes from the index. Cooperative-sticky assignment, so a rebalance moves only the partitions
 * that change owner.
 *
 * <p><b>Offsets are the backlog.</b> For every partition whose rebuild is done, the committed offset is
 * that of the oldest record that is still live and not yet replayed (a region value with no later
 * tombstone of its key), or the consumer's position when there is none ({@link PendingOffsets}). So
 * the group's lag, as {@code kafka-consumer-groups --describe} shows it, is zero exactly when nothing
 * is left to replay. Commits are asynchronous after each poll that changed an offset, and synchronous
 * on revocation and close. Committed offsets are never used to resume: every assignment rebuilds.
 *
 * <p><b>Mirrored peer topics</b> ({@link SourceTopics} with {@code replayer.mirror.policy=default}): the
 * group subscribes to the local dirty topic only, so ownership and the committed backlog are the local
 * topic's; for each assigned partition p a second, group-less consumer on the same thread reads
 * partition p of every mirrored dirty topic from the beginning (the same volumes: MirrorMaker copies
 * partitions one to one), and p counts as rebuilt only when both reached their end offsets at
 * assignment. The index merges them ({@link DirtySetIndex#over}). A mirrored topic that does not exist
 * at assignment is read from the next assignment on.
 *
 * <p>Threading: one owner thread, started by {@link #start} and stopped by {@link #close}, owns the
 * KafkaConsumer and calls the {@link OwnershipListener} (keep it short). {@link #index()},
 * {@link #assignment()}, {@link #ownedVolumes()}, {@link #rebuilt()} and {@link #failure()} are safe
 * from any thread: the index is locked, the others are immutable snapshots published through volatile
 * fields. A failure of the owner thread stops it and is returned by {@link #failure()}.
 */
public final class DirtyTopicFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DirtyTopicFollower.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration MIRROR_POLL = Duration.ofMillis(50);

    /** Told, on the owner thread, which volumes this instance gained (after their rebuild) or lost. */
    public interface OwnershipListener {
        void volumesAssigned(Set<String> volumes);

        void volumesRevoked(Set<String> volumes);
    }

    private static final class PartitionState {
        final long rebuildEnd;
        final Set<String> volumes = new HashSet<>();
        final PendingOffsets pending = new PendingOffsets();
        /** End offsets at assignment of this partition in the mirrored topics. */
        final Map<TopicPartition, Long> mirrorEnds = new HashMap<>();
        boolean rebuilt;
        long committed = -1;

        PartitionState(long rebuildEnd) {
            this.rebuildEnd = rebuildEnd;
        }
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    /** Reads the mirrored dirty topics' partitions of the assigned partitions; null without mirrored topics. */
    private final KafkaConsumer<byte[], byte[]> mirror;
    private final String topic;
    private final List<String> mirrored;
    private final OwnershipListener listener;
    private final DirtySetIndex index;
    private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
    private final Thread owner;
    private volatile boolean running = true;
    private volatile Set<TopicPartition> assignment = Set.of();
    private volatile Set<String> ownedVolumes = Set.of();
    /** Numbers of the assigned partitions that are rebuilt, and the topic's partition count (0 before the first assignment). */
    private volatile Set<Integer> rebuiltPartitions = Set.of();
    private volatile int partitionCount;
    private volatile boolean rebuilt;
    private volatile Throwable failure;

    private DirtyTopicFollower(Properties clientProperties, String groupId, String memberId, SourceTopics topics,
                               OwnershipListener listener, RegistryCodecs codecs, PoisonSink poison) {
        Properties p = Clients.consumer(clientProperties, "blockrep-dirty-follower", groupId);
        if (memberId != null) {
            // The member's client id is what kafka-consumer-groups --describe --members and ReplayerGroup show: make it
            // the replayer.id, so an operator sees which instance owns which partitions. Not group.instance.id: a static
            // member does not leave the group on close, so its volumes would wait a session timeout for a new owner.
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, memberId);
        }
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        // A replayer killed with -9 is replaced within the session timeout (Kafka's default, 45 s, left a
        // volume RESYNCING with no progress that long): 6 s, the broker's smallest allowed by default, with
        // heartbeats every 1.5 s. Either can be overridden with replayer.kafka.session.timeout.ms / heartbeat.interval.ms.
        p.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "6000");
        p.putIfAbsent(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1500");
        this.consumer = new KafkaConsumer<>(p);
        this.topic = topics.localDirty();
        this.mirrored = topics.mirroredDirty();
        this.index = DirtySetIndex.over(topics, codecs, poison);
        this.mirror = mirrored.isEmpty() ? null
                : new KafkaConsumer<>(Clients.consumer(clientProperties, "blockrep-dirty-follower-mirror", null));
        this.listener = listener;
        this.owner = new Thread(this::run, "blockrep-dirty-follower-" + groupId);
        this.owner.setDaemon(true);
    }

    /** Joins {@code groupId} on {@code topic} (the dirty topic) and starts the owner thread; the member's client id is a generic one. */
    public static DirtyTopicFollower start(Properties clientProperties, String groupId, String topic, OwnershipListener listener) {
        return start(clientProperties, groupId, null, topic, listener);
    }

    /**
     * As {@link #start(Properties, String, String, OwnershipListener)}, the member named {@code memberId} (the
     * {@code replayer.id}): it is the consumer's {@code client.id}, which the group's description shows.
     */
    public static DirtyTopicFollower start(Properties clientProperties, String groupId, String memberId, String topic,
                                           OwnershipListener listener) {
        return start(clientProperties, groupId, memberId, SourceTopics.ofDirtyTopic(topic), listener);
    }

    /** As above, reading the local dirty topic of {@code topics} in the group and its mirrored peer topics beside it. */
    public static DirtyTopicFollower start(Properties clientProperties, String groupId, String memberId, SourceTopics topics,
                                           OwnershipListener listener) {
        return start(clientProperties, groupId, memberId, topics, listener, RegistryCodecs.withoutRegistry(), PoisonSink.NONE);
    }

    /**
     * As {@link #start(Properties, String, String, String, OwnershipListener)}, reading values with {@code codecs}
     * (both formats with a registry) and handing poison records to {@code poison} (the dead-letter topic).
     */
    public static DirtyTopicFollower start(Properties clientProperties, String groupId, String memberId, String topic,
                                           OwnershipListener listener, RegistryCodecs codecs, PoisonSink poison) {
        return start(clientProperties, groupId, memberId, SourceTopics.ofDirtyTopic(topic), listener, codecs, poison);
    }

    /** As {@link #start(Properties, String, String, SourceTopics, OwnershipListener)}, with {@code codecs} and {@code poison}. */
    public static DirtyTopicFollower start(Properties clientProperties, String groupId, String memberId, SourceTopics topics,
                                           OwnershipListener listener, RegistryCodecs codecs, PoisonSink poison) {
        DirtyTopicFollower f = new DirtyTopicFollower(clientProperties, groupId, memberId, topics, listener, codecs, poison);
        f.owner.start();
        return f;
    }

    public DirtySetIndex index() {
        return index;
    }

    /** Partitions assigned to this instance now. */
    public Set<TopicPartition> assignment() {
        return assignment;
    }

    /** Volumes seen in this instance's rebuilt partitions: the volumes it owns. */
    public Set<String> ownedVolumes() {
        return ownedVolumes;
    }

    /**
     * Those of {@code volumes} whose partition ({@link io.blockrep.schemas.topic.TopicLayout#partitionFor}) is
     * assigned here and rebuilt: the volumes this instance answers for, whether or not the topic holds a
     * record of them yet (a volume that never had a dirty region is in no record, so not in {@link #ownedVolumes()}).
     */
    public Set<String> ownedOf(java.util.Collection<String> volumes) {
        int count = partitionCount;
        Set<Integer> rebuiltNow = rebuiltPartitions;
        if (count == 0) {
            return Set.of();
        }
        Set<String> owned = new TreeSet<>();
        for (String v : volumes) {
            if (rebuiltNow.contains(io.blockrep.schemas.topic.TopicLayout.partitionFor(v, count))) {
                owned.add(v);
            }
        }
        return owned;
    }

    /** True when this instance has partitions and every one is rebuilt up to its end offset at assignment. */
    public boolean rebuilt() {
        return rebuilt;
    }

    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** Stops the owner thread, which commits the backlog offsets and leaves the group. */
    @Override
    public void close() {
        running = false;
        consumer.wakeup(); // the mirror consumer's polls are short: the loop sees running=false after one
        try {
            owner.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        try {
            consumer.subscribe(List.of(topic), new Rebalance());
            while (running) {
                applyAll(consumer, consumer.poll(mirror == null ? POLL : MIRROR_POLL));
                if (mirror != null && !mirror.assignment().isEmpty()) {
                    applyAll(mirror, mirror.poll(MIRROR_POLL));
                }
                finishRebuilds();
                commit(false);
            }
        } catch (WakeupException e) {
            // close() was called
        } catch (RuntimeException | Error e) {
            // Recorded, never swallowed: the service sees the failure, leaves the group and its command exits non-zero
            // (ReplayerService); a VirtualMachineError also goes on to the process's backstop once the consumer closed.
            failure = e;
            LOG.error("dirty topic follower stopped", e);
            if (e instanceof VirtualMachineError) {
                throw e;
            }
        } finally {
            try {
                try {
                    commit(true);
                } catch (WakeupException e) {
                    commit(true); // close()'s wakeup was still pending: the thread was not in the group consumer's poll
                }
            } catch (RuntimeException e) {
                LOG.warn("last commit of backlog offsets failed: {}", e.toString());
            }
            consumer.close();
            if (mirror != null) {
                mirror.close();
            }
            running = false;
        }
    }

    /**
     * Applies a poll's records partition by partition. A schema registry that cannot be reached to resolve a
     * writer id stops a partition at that record: the consumer is moved back to it, and it is applied again
     * after a pause (the record is not poison; skipping it would lose a dirty region).
     */
    private void applyAll(KafkaConsumer<byte[], byte[]> from, ConsumerRecords<byte[], byte[]> records) {
        boolean registryDown = false;
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
                try {
                    apply(r);
                } catch (SchemaRegistryUnavailableException e) {
                    if (!registryDown) {
                        LOG.warn("{}@{}: cannot decode, the schema registry is unreachable; reading it again shortly: {}", tp, r.offset(),
                                e.getMessage());
                    }
                    registryDown = true;
                    from.seek(tp, r.offset());
                    break;
                }
            }
        }
        if (registryDown) {
            pauseForRegistry(from);
        }
    }

    /** Backs off for a second while keeping the group membership alive (a poll of paused partitions returns nothing). */
    private void pauseForRegistry(KafkaConsumer<byte[], byte[]> from) {
        Set<TopicPartition> assigned = from.assignment();
        from.pause(assigned);
        try {
            ConsumerRecords<byte[], byte[]> late = from.poll(Duration.ofSeconds(1));
            for (TopicPartition tp : late.partitions()) {
                from.seek(tp, late.records(tp).get(0).offset()); // assigned during the pause, so not paused: read again next poll
            }
        } finally {
            from.resume(from.assignment());
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> r) {
        if (index.apply(r) == DirtySetIndex.Applied.POISON) {
            return; // counted, reported and dead-lettered by the index; not a region to wait for
        }
        boolean local = r.topic().equals(topic);
        PartitionState s = partitions.get(new TopicPartition(topic, r.partition()));
        if (s == null) {
            return;
        }
        DirtyKey key;
        try {
            key = DirtyKey.parse(r.key());
        } catch (PoisonRecordException e) {
            return; // counted and reported by the index
        }
        if (local) {
            s.pending.onRecord(key, r.value() != null, r.offset()); // the group's offsets are the local topic's
        }
        if (s.volumes.add(key.volume()) && s.rebuilt) {
            publishOwnership();
            listener.volumesAssigned(Set.of(key.volume()));
        }
    }

    private void finishRebuilds() {
        for (Map.Entry<TopicPartition, PartitionState> e : partitions.entrySet()) {
            PartitionState s = e.getValue();
            if (!s.rebuilt && consumer.position(e.getKey()) >= s.rebuildEnd && mirrorsRebuilt(s)) {
                s.rebuilt = true;
                LOG.info("rebuilt {} up to offset {}: volumes {}", e.getKey(), s.rebuildEnd, new TreeSet<>(s.volumes));
                publishOwnership();
                if (!s.volumes.isEmpty()) {
                    listener.volumesAssigned(Set.copyOf(s.volumes));
                }
            }
        }
    }

    private boolean mirrorsRebuilt(PartitionState s) {
        for (Map.Entry<TopicPartition, Long> m : s.mirrorEnds.entrySet()) {
            if (mirror.position(m.getKey()) < m.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** Reads partition p of every existing mirrored topic for each added local partition p (owner thread). */
    private void assignMirrors(Collection<TopicPartition> added) {
        if (mirror == null) {
            return;
        }
        List<TopicPartition> fresh = new java.util.ArrayList<>();
        for (String m : mirrored) {
            List<?> exists = mirror.partitionsFor(m);
            if (exists == null || exists.isEmpty()) {
                LOG.warn("mirrored dirty topic {} does not exist on this cluster (yet): is MirrorMaker 2 running with the replication "
                        + "policy and aliases of replayer.mirror.*? Reading without it until the next assignment", m);
                continue;
            }
            if (exists.size() != partitionCount) {
                // Fatal for the follower (handed to the service through failure()): a volume would be in different partitions.
                throw new io.blockrep.common.FatalException(m + " has " + exists.size() + " partitions, " + topic + " " + partitionCount
                        + ": a volume's records would be in different partitions (MirrorMaker 2 mirrors partitions one to one; "
                        + "was a topic re-created or partitions added?)");
            }
            added.forEach(tp -> fresh.add(new TopicPartition(m, tp.partition())));
        }
        if (fresh.isEmpty()) {
            return;
        }
        Set<TopicPartition> all = new HashSet<>(mirror.assignment());
        all.addAll(fresh);
        mirror.assign(all);
        mirror.seekToBeginning(fresh);
        Map<TopicPartition, Long> end = mirror.endOffsets(fresh);
        end.forEach((tp, offset) -> partitions.get(new TopicPartition(topic, tp.partition())).mirrorEnds.put(tp, offset));
        LOG.info("reading mirrored {}; rebuilding up to {}", fresh, end);
    }

    private void unassignMirrors(Collection<TopicPartition> gone) {
        if (mirror == null) {
            return;
        }
        Set<Integer> numbers = new HashSet<>();
        gone.forEach(tp -> numbers.add(tp.partition()));
        Set<TopicPartition> keep = new HashSet<>(mirror.assignment());
        keep.removeIf(tp -> numbers.contains(tp.partition()));
        mirror.assign(keep);
    }

    private void commit(boolean sync) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Map.Entry<TopicPartition, PartitionState> e : partitions.entrySet()) {
            PartitionState s = e.getValue();
            if (s.rebuilt) {
                long offset = s.pending.commitOffset(consumer.position(e.getKey()));
                if (offset != s.committed || sync) {
                    offsets.put(e.getKey(), new OffsetAndMetadata(offset));
                    s.committed = offset;
                }
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            consumer.commitSync(offsets);
        } else {
            consumer.commitAsync(offsets, (o, ex) -> {
                if (ex != null) {
                    LOG.warn("commit of backlog offsets {} failed (retried with the next change): {}", o, ex.toString());
                    o.keySet().forEach(tp -> {
                        PartitionState s = partitions.get(tp);
                        if (s != null) {
                            s.committed = -1;
                        }
                    });
                }
            });
        }
    }

    private void publishOwnership() {
        Set<String> volumes = new TreeSet<>();
        Set<Integer> rebuiltNow = new HashSet<>();
        boolean all = !partitions.isEmpty();
        for (Map.Entry<TopicPartition, PartitionState> e : partitions.entrySet()) {
            PartitionState s = e.getValue();
            if (s.rebuilt) {
                volumes.addAll(s.volumes);
                rebuiltNow.add(e.getKey().partition());
            } else {
                all = false;
            }
        }
        ownedVolumes = Set.copyOf(volumes);
        rebuiltPartitions = Set.copyOf(rebuiltNow);
        assignment = Set.copyOf(partitions.keySet());
        rebuilt = all;
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> added) {
            if (added.isEmpty()) {
                return;
            }
            consumer.seekToBeginning(added);
            Map<TopicPartition, Long> end = consumer.endOffsets(added);
            added.forEach(tp -> partitions.put(tp, new PartitionState(end.get(tp))));
            partitionCount = consumer.partitionsFor(topic).size();
            assignMirrors(added);
            LOG.info("assigned {}; rebuilding up to {}", added, end);
            publishOwnership();
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            if (revoked.isEmpty()) {
                return;
            }
            try {
                commit(true);
            } catch (KafkaException e) {
                LOG.warn("commit of backlog offsets on revocation failed: {}", e.toString());
            }
            drop(revoked);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            drop(lost);
        }

        private void drop(Collection<TopicPartition> gone) {
            Set<String> volumes = new TreeSet<>();
            for (TopicPartition tp : gone) {
                PartitionState s = partitions.remove(tp);
                if (s != null) {
                    volumes.addAll(s.volumes);
                }
            }
            unassignMirrors(gone);
            index.removeVolumes(volumes);
            publishOwnership();
            LOG.info("lost {}: dropped volumes {}", gone, volumes);
            if (!volumes.isEmpty()) {
                listener.volumesRevoked(volumes);
            }
        }
    }
}
