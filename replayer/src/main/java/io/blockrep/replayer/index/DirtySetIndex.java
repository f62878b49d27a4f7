package io.blockrep.replayer.index;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.PoisonRecordException;
import io.blockrep.schemas.codec.RecordCodec;
import io.blockrep.schemas.dlq.PoisonSink;
import io.blockrep.schemas.registry.RegistryCodecs;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.roaringbitmap.RoaringBitmap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live dirty set, rebuilt from the compacted dirty topic: per (volume, node, era) a
 * {@link RoaringBitmap} of the regions whose latest record is a value (not yet replayed), the era's
 * closed marker if one is present, and the oldest first-write time of the era as one number.
 *
 * <p>Records must be {@linkplain #apply applied} in partition order, as a consumer delivers them;
 * the era-closed rule below depends on it. Poison records (a key that is not a {@link DirtyKey}, a
 * value that does not decode, a region beyond the 32-bit bitmap range) are counted and skipped with a
 * WARN naming topic, partition and offset; {@link #apply} never throws for them.
 *
 * <p><b>Ready eras.</b> The facility publishes the marker of era N only after every record of era N
 * is acknowledged, so in the partition the marker follows all of them (records of later eras may
 * interleave before it). Markers of different eras are not ordered among themselves: the marker of
 * N may precede that of N-1 when N-1 still had a backlog. Therefore
 * {@link #highestClosedEraReady} is the largest N whose marker is present such that every era
 * {@code <= N} this index knows (with live regions or a marker) also has its marker. For such an N,
 * {@link #liveRegionsThrough liveRegionsThrough(N)} holds every region of eras {@code <= N} that is
 * not replayed yet: nothing more can arrive for those eras. An era whose marker was tombstoned must
 * have had all its regions tombstoned first (the replayer's order); such an era is forgotten.
 *
 * <p><b>Oldest first write</b> of an era is the minimum {@code firstWriteMillis} of the region
 * records applied to it since it last became empty; a region replayed later does not raise it (the
 * per-region times are not kept). It is therefore conservative: never younger than the truly oldest
 * live region. It resets when the era has no live region left.
 *
 * <p><b>Several source topics</b> ({@link #over(SourceTopics)} with mirrored peer topics): records of
 * different topics are merged by {@link EraSources}'s rule, not by arrival order: a region is clean if
 * any topic's last record of its key is a tombstone, else dirty if any topic's last record is a value;
 * the marker likewise. Per topic the partition order above still holds. The per-topic state of an era
 * is kept for as long as the index lives (one small bitmap per topic and era), so that a value read
 * after a tombstone of another topic (the rebuild reads the topics side by side) cannot revive a key.
 *
 * <p>Thread-safety: every public method holds this object's monitor; queries return copies
 * (new bitmaps, new sets), never live views, so callers on other threads may keep and read them
 * while the owner thread applies more records.
 */
public final class DirtySetIndex {
    private static final Logger LOG = LoggerFactory.getLogger(DirtySetIndex.class);
    private static final long MAX_REGION = 0xFFFF_FFFFL;

    private final Map<String, VolumeState> volumes = new HashMap<>();
    /** Per (volume, node, era), the last record of each key in each topic; only when merging several topics. */
    private final Map<EraKey, EraSources> sources;
    private final RecordCodec<DirtyRegion> regionCodec;
    private final RecordCodec<EraClosed> markerCodec;
    private final PoisonSink poison;
    private long poisonRecords;

    private record EraKey(String volume, String node, long era) {
        static EraKey of(DirtyKey key) {
            return new EraKey(key.volume(), key.node(), key.era());
        }
    }

    /** An index of one dirty topic, single-object values only; poison records are counted and logged, and go nowhere else. */
    public DirtySetIndex() {
        this(false, RegistryCodecs.withoutRegistry(), PoisonSink.NONE);
    }

    /**
     * An index of one dirty topic: records apply in the order they come.
     *
     * @param codecs reads the values (both formats with a registry; {@link RegistryCodecs#forReading})
     * @param poison where a poison record goes after it is counted and logged (the dead-letter topic), under this object's monitor
     */
    public DirtySetIndex(RegistryCodecs codecs, PoisonSink poison) {
        this(false, codecs, poison);
    }

    private DirtySetIndex(boolean merging, RegistryCodecs codecs, PoisonSink poison) {
        this.sources = merging ? new HashMap<>() : null;
        this.regionCodec = codecs.dirtyRegion();
        this.markerCodec = codecs.eraClosed();
        this.poison = poison;
    }

    /** An index of {@code topics}' dirty topics, single-object values only: with more than one, merged by the rule in the class comment. */
    public static DirtySetIndex over(SourceTopics topics) {
        return over(topics, RegistryCodecs.withoutRegistry(), PoisonSink.NONE);
    }

    /** An index of {@code topics}' dirty topics: with more than one, merged by the rule in the class comment. */
    public static DirtySetIndex over(SourceTopics topics, RegistryCodecs codecs, PoisonSink poison) {
        return new DirtySetIndex(topics.dirty().size() > 1, codecs, poison);
    }

    /** What an applied record did; {@link #POISON} when it was skipped. */
    public enum Applied { REGION_ADDED, REGION_REMOVED, MARKER_ADDED, MARKER_REMOVED, POISON }

    /** A present era-closed marker. */
    public record ClosedEra(long era, long regionCount, long closedMillis) {
    }

    private static final class VolumeState {
        int regionSize;
        long volumeSize = -1;
        final Map<String, NavigableMap<Long, EraState>> nodes = new HashMap<>();
    }

    private static final class EraState {
        final RoaringBitmap live = new RoaringBitmap();
        EraClosed marker;
        long oldestFirstWriteMillis = Long.MAX_VALUE;

        boolean isEmpty() {
            return live.isEmpty() && marker == null;
        }
    }

    /**
     * Applies one dirty-topic record; see the class comment. A registry that cannot be reached to resolve a
     * writer id not seen before is thrown ({@link io.blockrep.schemas.registry.SchemaRegistryUnavailableException}):
     * the record is not poison, and nothing of it was applied, so the caller applies it again later.
     */
    public synchronized Applied apply(ConsumerRecord<byte[], byte[]> record) {
        try {
            DirtyKey key = DirtyKey.parse(record.key());
            if (!key.isEraClosed() && key.region() > MAX_REGION) {
                throw new PoisonRecordException(PoisonRecordException.Kind.BAD_KEY, "region " + key.region() + " is beyond the 32-bit region range");
            }
            if (key.isEraClosed()) {
                return record.value() == null ? removeMarker(record.topic(), key)
                        : addMarker(record.topic(), key, markerCodec.decode(record.value()));
            }
            return record.value() == null ? removeRegion(record.topic(), key)
                    : addRegion(record.topic(), key, regionCodec.decode(record.value()));
        } catch (PoisonRecordException e) {
            poisonRecords++;
            LOG.warn("skipping poison record {}-{}@{}: {}", record.topic(), record.partition(), record.offset(), e.getMessage());
            poison.poison(record, e);
            return Applied.POISON;
        }
    }

    private Applied addRegion(String topic, DirtyKey key, DirtyRegion value) {
        List<String> problems = RegionGeometry.problems(value.getVolumeSize(), value.getRegionSize());
        if (!problems.isEmpty()) {
            throw new PoisonRecordException("bad geometry in the value of " + key + ": " + problems);
        }
        VolumeState v = volumes.computeIfAbsent(key.volume(), k -> new VolumeState());
        v.regionSize = value.getRegionSize();
        v.volumeSize = value.getVolumeSize();
        if (sources != null) {
            EraSources s = sources.computeIfAbsent(EraKey.of(key), k -> new EraSources());
            s.region(topic, (int) key.region(), true);
            if (!s.isLive((int) key.region())) {
                // tombstoned in another topic: replayed already (see EraSources)
                if (v.nodes.isEmpty()) {
                    volumes.remove(key.volume(), v);
                }
                return Applied.REGION_REMOVED;
            }
        }
        EraState e = v.nodes.computeIfAbsent(key.node(), k -> new TreeMap<>()).computeIfAbsent(key.era(), k -> new EraState());
        e.live.add((int) key.region());
        e.oldestFirstWriteMillis = Math.min(e.oldestFirstWriteMillis, value.getFirstWriteMillis());
        return Applied.REGION_ADDED;
    }

    private Applied removeRegion(String topic, DirtyKey key) {
        if (sources != null) {
            sources.computeIfAbsent(EraKey.of(key), k -> new EraSources()).region(topic, (int) key.region(), false);
        }
        EraState e = era(key);
        if (e != null) {
            e.live.remove((int) key.region());
            if (e.live.isEmpty()) {
                e.oldestFirstWriteMillis = Long.MAX_VALUE;
            }
            forgetIfEmpty(key);
        }
        return Applied.REGION_REMOVED;
    }

    private Applied addMarker(String topic, DirtyKey key, EraClosed value) {
        if (sources != null) {
            EraSources s = sources.computeIfAbsent(EraKey.of(key), k -> new EraSources());
            s.marker(topic, value);
            if (s.marker() == null) {
                return Applied.MARKER_REMOVED; // tombstoned in another topic
            }
        }
        volumes.computeIfAbsent(key.volume(), k -> new VolumeState())
                .nodes.computeIfAbsent(key.node(), k -> new TreeMap<>())
                .computeIfAbsent(key.era(), k -> new EraState()).marker = value;
        LOG.debug("era {} of {}/{} closed: marker seen {} ms after the era closed", key.era(), key.volume(), key.node(),
                System.currentTimeMillis() - value.getClosedMillis());
        return Applied.MARKER_ADDED;
    }

    private Applied removeMarker(String topic, DirtyKey key) {
        if (sources != null) {
            sources.computeIfAbsent(EraKey.of(key), k -> new EraSources()).marker(topic, null);
        }
        EraState e = era(key);
        if (e != null) {
            e.marker = null;
            forgetIfEmpty(key);
        }
        return Applied.MARKER_REMOVED;
    }

    private EraState era(DirtyKey key) {
        VolumeState v = volumes.get(key.volume());
        NavigableMap<Long, EraState> eras = v == null ? null : v.nodes.get(key.node());
        return eras == null ? null : eras.get(key.era());
    }

    private void forgetIfEmpty(DirtyKey key) {
        VolumeState v = volumes.get(key.volume());
        NavigableMap<Long, EraState> eras = v.nodes.get(key.node());
        if (eras.get(key.era()).isEmpty()) {
            eras.remove(key.era());
            if (eras.isEmpty()) {
                v.nodes.remove(key.node());
                if (v.nodes.isEmpty()) {
                    volumes.remove(key.volume());
                }
            }
        }
    }

    /** Forgets everything about these volumes (their partition was revoked). */
    public synchronized void removeVolumes(Collection<String> gone) {
        volumes.keySet().removeAll(gone);
        if (sources != null) {
            sources.keySet().removeIf(k -> gone.contains(k.volume()));
        }
    }

    /** Number of records skipped as poison since this index was created. */
    public synchronized long poisonRecords() {
        return poisonRecords;
    }

    /** Volumes with at least one live region or present marker. */
    public synchronized Set<String> volumes() {
        return new TreeSet<>(volumes.keySet());
    }

    public synchronized Set<String> nodes(String volume) {
        VolumeState v = volumes.get(volume);
        return v == null ? Set.of() : new TreeSet<>(v.nodes.keySet());
    }

    /** Eras of (volume, node) with live regions or a present marker, ascending. */
    public synchronized List<Long> eras(String volume, String node) {
        NavigableMap<Long, EraState> eras = eras0(volume, node);
        return new ArrayList<>(eras.keySet());
    }

    /** Present era-closed markers of (volume, node), ascending by era. */
    public synchronized List<ClosedEra> closedEras(String volume, String node) {
        List<ClosedEra> out = new ArrayList<>();
        eras0(volume, node).forEach((era, e) -> {
            if (e.marker != null) {
                out.add(new ClosedEra(era, e.marker.getRegionCount(), e.marker.getClosedMillis()));
            }
        });
        return out;
    }

    /** A copy of the live regions of one era; empty if none. */
    public synchronized RoaringBitmap liveRegions(String volume, String node, long era) {
        EraState e = eras0(volume, node).get(era);
        return e == null ? new RoaringBitmap() : e.live.clone();
    }

    /** A new bitmap: the union of the live regions of every era {@code <= maxEra}. */
    public synchronized RoaringBitmap liveRegionsThrough(String volume, String node, long maxEra) {
        RoaringBitmap union = new RoaringBitmap();
        for (EraState e : eras0(volume, node).headMap(maxEra, true).values()) {
            union.or(e.live);
        }
        return union;
    }

    public synchronized long liveCount(String volume, String node, long era) {
        EraState e = eras0(volume, node).get(era);
        return e == null ? 0 : e.live.getLongCardinality();
    }

    /** Live region records of a volume, all nodes and eras (a region dirty in two eras counts twice). */
    public synchronized long liveCount(String volume) {
        VolumeState v = volumes.get(volume);
        long n = 0;
        if (v != null) {
            for (NavigableMap<Long, EraState> eras : v.nodes.values()) {
                for (EraState e : eras.values()) {
                    n += e.live.getLongCardinality();
                }
            }
        }
        return n;
    }

    /** The oldest first write among the volume's live eras (the RPO exposure); see the class comment. */
    public synchronized OptionalLong oldestFirstWriteMillis(String volume) {
        VolumeState v = volumes.get(volume);
        long oldest = Long.MAX_VALUE;
        if (v != null) {
            for (NavigableMap<Long, EraState> eras : v.nodes.values()) {
                for (EraState e : eras.values()) {
                    oldest = Math.min(oldest, e.oldestFirstWriteMillis);
                }
            }
        }
        return oldest == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(oldest);
    }

    /** Region size and volume size from the latest region record of the volume, if any was seen. */
    public synchronized Optional<RegionGeometry> geometry(String volume) {
        VolumeState v = volumes.get(volume);
        if (v == null || v.volumeSize < 0) {
            return Optional.empty();
        }
        return Optional.of(new RegionGeometry(v.volumeSize, v.regionSize));
    }

    /** The largest era N such that N and every known era below it are closed; see the class comment. */
    public synchronized OptionalLong highestClosedEraReady(String volume, String node) {
        OptionalLong ready = OptionalLong.empty();
        for (Map.Entry<Long, EraState> e : eras0(volume, node).entrySet()) {
            if (e.getValue().marker == null) {
                break;
            }
            ready = OptionalLong.of(e.getKey());
        }
        return ready;
    }

    private NavigableMap<Long, EraState> eras0(String volume, String node) {
        VolumeState v = volumes.get(volume);
        NavigableMap<Long, EraState> eras = v == null ? null : v.nodes.get(node);
        return eras == null ? new TreeMap<>() : eras;
    }
}
