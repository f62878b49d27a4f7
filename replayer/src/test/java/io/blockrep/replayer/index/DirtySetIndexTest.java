package io.blockrep.replayer.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.replayer.index.DirtySetIndex.Applied;
import io.blockrep.schemas.DirtyCause;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.codec.Codecs;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

class DirtySetIndexTest {
    private static final long SIZE = 1L << 30;
    private long offset;

    private ConsumerRecord<byte[], byte[]> record(byte[] key, byte[] value) {
        return new ConsumerRecord<>("t.dirty", 0, offset++, key, value);
    }

    private ConsumerRecord<byte[], byte[]> region(String v, String n, long era, long region, long firstWrite) {
        return record(DirtyKey.region(v, n, era, region).bytes(),
                Codecs.DIRTY_REGION.encode(new DirtyRegion(firstWrite, 65536, SIZE, DirtyCause.LOGGED_WRITE)));
    }

    private ConsumerRecord<byte[], byte[]> tombstone(String v, String n, long era, long region) {
        return record(DirtyKey.region(v, n, era, region).bytes(), null);
    }

    private ConsumerRecord<byte[], byte[]> marker(String v, String n, long era, long count) {
        return record(DirtyKey.eraClosed(v, n, era).bytes(), Codecs.ERA_CLOSED.encode(new EraClosed(1000 + era, count)));
    }

    private ConsumerRecord<byte[], byte[]> markerTombstone(String v, String n, long era) {
        return record(DirtyKey.eraClosed(v, n, era).bytes(), null);
    }

    private static RoaringBitmap bitmap(TreeSet<Long> regions) {
        RoaringBitmap b = new RoaringBitmap();
        regions.forEach(r -> b.add(r.intValue()));
        return b;
    }

    /** The simple model: per "volume/node" a map era -> live regions, and era -> marker present. */
    private static final class Model {
        final Map<String, TreeMap<Long, TreeSet<Long>>> live = new HashMap<>();
        final Map<String, TreeSet<Long>> markers = new HashMap<>();

        TreeSet<Long> regions(String vn, long era) {
            return live.computeIfAbsent(vn, k -> new TreeMap<>()).computeIfAbsent(era, k -> new TreeSet<>());
        }

        TreeSet<Long> knownEras(String vn) {
            TreeSet<Long> eras = new TreeSet<>(markers.getOrDefault(vn, new TreeSet<>()));
            live.getOrDefault(vn, new TreeMap<>()).forEach((era, r) -> {
                if (!r.isEmpty()) {
                    eras.add(era);
                }
            });
            return eras;
        }

        OptionalLong ready(String vn) {
            OptionalLong ready = OptionalLong.empty();
            for (long era : knownEras(vn)) {
                if (!markers.getOrDefault(vn, new TreeSet<>()).contains(era)) {
                    break;
                }
                ready = OptionalLong.of(era);
            }
            return ready;
        }
    }

    @Test
    void matchesASortedSetModelOverSeededRandomSequences() {
        String[] volumes = {"vol-a", "vol-b"};
        String[] nodes = {"site-a", "site-b"};
        for (long seed = 1; seed <= 200; seed++) {
            Random random = new Random(seed);
            DirtySetIndex index = new DirtySetIndex();
            Model model = new Model();
            long poison = 0;
            for (int step = 0; step < 400; step++) {
                String v = volumes[random.nextInt(volumes.length)];
                String n = nodes[random.nextInt(nodes.length)];
                String vn = v + "/" + n;
                long era = random.nextInt(5);
                long r = random.nextInt(60);
                int op = random.nextInt(100);
                if (op < 50) {
                    assertThat(index.apply(region(v, n, era, r, 1000 + step))).isEqualTo(Applied.REGION_ADDED);
                    model.regions(vn, era).add(r);
                } else if (op < 80) {
                    assertThat(index.apply(tombstone(v, n, era, r))).isEqualTo(Applied.REGION_REMOVED);
                    model.regions(vn, era).remove(r);
                } else if (op < 90) {
                    index.apply(marker(v, n, era, 7));
                    model.markers.computeIfAbsent(vn, k -> new TreeSet<>()).add(era);
                } else if (op < 96) {
                    index.apply(markerTombstone(v, n, era));
                    model.markers.computeIfAbsent(vn, k -> new TreeSet<>()).remove(era);
                } else {
                    assertThat(index.apply(record("nonsense".getBytes(StandardCharsets.UTF_8), new byte[] {1}))).isEqualTo(Applied.POISON);
                    poison++;
                }
            }
            assertThat(index.poisonRecords()).isEqualTo(poison);
            for (String v : volumes) {
                for (String n : nodes) {
                    String vn = v + "/" + n;
                    String at = "seed " + seed + " " + vn;
                    assertThat(index.eras(v, n)).as(at).containsExactlyElementsOf(model.knownEras(vn));
                    assertThat(index.closedEras(v, n)).extracting(DirtySetIndex.ClosedEra::era).as(at)
                            .containsExactlyElementsOf(model.markers.getOrDefault(vn, new TreeSet<>()));
                    for (long era = 0; era < 5; era++) {
                        TreeSet<Long> expected = model.regions(vn, era);
                        assertThat(index.liveRegions(v, n, era)).as(at + " era " + era).isEqualTo(bitmap(expected));
                        assertThat(index.liveCount(v, n, era)).isEqualTo(expected.size());
                        TreeSet<Long> through = new TreeSet<>();
                        for (long e = 0; e <= era; e++) {
                            through.addAll(model.regions(vn, e));
                        }
                        assertThat(index.liveRegionsThrough(v, n, era)).as(at + " through " + era).isEqualTo(bitmap(through));
                    }
                    assertThat(index.highestClosedEraReady(v, n)).as(at).isEqualTo(model.ready(vn));
                }
            }
        }
    }

    @Test
    void readyWaitsForTheMarkerOfEveryKnownLowerEraWhenErasInterleave() {
        DirtySetIndex index = new DirtySetIndex();
        index.apply(region("v", "a", 3, 1, 10));
        index.apply(region("v", "a", 4, 2, 20)); // era 4 opened; era 3 still has a backlog
        index.apply(region("v", "a", 3, 5, 11));
        assertThat(index.highestClosedEraReady("v", "a")).isEmpty();
        index.apply(region("v", "a", 4, 6, 21));
        index.apply(marker("v", "a", 4, 2)); // marker of 4 before that of 3
        assertThat(index.highestClosedEraReady("v", "a")).as("era 3 may still take records").isEmpty();
        index.apply(region("v", "a", 5, 9, 30));
        index.apply(region("v", "a", 3, 7, 12));
        index.apply(marker("v", "a", 3, 3));
        assertThat(index.highestClosedEraReady("v", "a")).hasValue(4);
        assertThat(index.liveRegionsThrough("v", "a", 4)).isEqualTo(RoaringBitmap.bitmapOf(1, 2, 5, 6, 7));
        assertThat(index.liveRegions("v", "a", 5)).isEqualTo(RoaringBitmap.bitmapOf(9));

        for (int r : new int[] {1, 5, 7}) {
            index.apply(tombstone("v", "a", 3, r));
        }
        index.apply(markerTombstone("v", "a", 3)); // era 3 replayed: forgotten
        assertThat(index.eras("v", "a")).containsExactly(4L, 5L);
        assertThat(index.highestClosedEraReady("v", "a")).hasValue(4);
        assertThat(index.closedEras("v", "a")).containsExactly(new DirtySetIndex.ClosedEra(4, 2, 1004));
        assertThat(index.highestClosedEraReady("v", "b")).isEmpty();
    }

    @Test
    void oldestFirstWriteIsConservativeAndResetsWhenAnEraEmpties() {
        DirtySetIndex index = new DirtySetIndex();
        assertThat(index.oldestFirstWriteMillis("v")).isEmpty();
        index.apply(region("v", "a", 1, 1, 500));
        index.apply(region("v", "a", 1, 2, 700));
        index.apply(region("v", "a", 2, 3, 900));
        assertThat(index.oldestFirstWriteMillis("v")).hasValue(500);
        index.apply(tombstone("v", "a", 1, 1));
        assertThat(index.oldestFirstWriteMillis("v")).as("per-region times are not kept").hasValue(500);
        index.apply(tombstone("v", "a", 1, 2));
        assertThat(index.oldestFirstWriteMillis("v")).hasValue(900);
        index.apply(tombstone("v", "a", 2, 3));
        assertThat(index.oldestFirstWriteMillis("v")).isEmpty();
        assertThat(index.volumes()).isEmpty();
    }

    @Test
    void poisonRecordsAreCountedAndSkipped() {
        DirtySetIndex index = new DirtySetIndex();
        index.apply(region("v", "a", 1, 1, 500));
        assertThat(index.apply(record(null, new byte[] {1}))).isEqualTo(Applied.POISON);
        assertThat(index.apply(record(DirtyKey.region("v", "a", 1, 2).bytes(), new byte[] {1, 2, 3}))).isEqualTo(Applied.POISON);
        assertThat(index.apply(record(DirtyKey.eraClosed("v", "a", 1).bytes(),
                Codecs.DIRTY_REGION.encode(new DirtyRegion(1L, 65536, SIZE, DirtyCause.LOGGED_WRITE))))).isEqualTo(Applied.POISON);
        assertThat(index.apply(region("v", "a", 1, 1L << 32, 500))).isEqualTo(Applied.POISON);
        assertThat(index.apply(record(DirtyKey.region("v", "a", 1, 3).bytes(),
                Codecs.DIRTY_REGION.encode(new DirtyRegion(1L, 1000, SIZE, DirtyCause.LOGGED_WRITE))))).isEqualTo(Applied.POISON);
        assertThat(index.poisonRecords()).isEqualTo(5);
        assertThat(index.liveRegions("v", "a", 1)).isEqualTo(RoaringBitmap.bitmapOf(1));
        assertThat(index.closedEras("v", "a")).isEmpty();
    }

    @Test
    void geometryComesFromTheValuesAndRemovedVolumesAreForgotten() {
        DirtySetIndex index = new DirtySetIndex();
        assertThat(index.geometry("v")).isEmpty();
        index.apply(region("v", "a", 1, 1, 500));
        index.apply(region("w", "a", 1, 1, 500));
        assertThat(index.geometry("v")).hasValue(new RegionGeometry(SIZE, 65536));
        assertThat(index.nodes("v")).containsExactly("a");
        index.removeVolumes(List.of("v"));
        assertThat(index.volumes()).containsExactly("w");
        assertThat(new ArrayList<>(index.nodes("v"))).isEmpty();
    }
}
