package io.blockrep.replayer.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.schemas.DirtyKey;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PendingOffsetsTest {

    @Test
    void regionOffsetsMatchAHashMapModel() {
        for (long seed = 1; seed <= 50; seed++) {
            Random random = new Random(seed);
            RegionOffsets table = new RegionOffsets();
            Map<Integer, Long> model = new HashMap<>();
            for (int step = 0; step < 5000; step++) {
                int region = random.nextInt(300) * (random.nextBoolean() ? 1 : 65536); // collisions and spread
                if (random.nextInt(3) > 0) {
                    long offset = random.nextInt(1_000_000);
                    assertThat(table.put(region, offset)).isEqualTo(model.getOrDefault(region, -1L));
                    model.put(region, offset);
                } else {
                    assertThat(table.remove(region)).isEqualTo(model.getOrDefault(region, -1L));
                    model.remove(region);
                }
                assertThat(table.size()).isEqualTo(model.size());
            }
            for (int region = 0; region < 300; region++) {
                assertThat(table.get(region)).as("seed " + seed).isEqualTo(model.getOrDefault(region, -1L));
                assertThat(table.get(region * 65536)).isEqualTo(model.getOrDefault(region * 65536, -1L));
            }
        }
    }

    @Test
    void commitOffsetIsTheOldestLatestValueOfALiveKey() {
        for (long seed = 1; seed <= 50; seed++) {
            Random random = new Random(seed);
            PendingOffsets pending = new PendingOffsets();
            Map<DirtyKey, Long> latestLive = new HashMap<>();
            long offset = 0;
            for (int step = 0; step < 2000; step++, offset++) {
                DirtyKey key = random.nextInt(10) == 0
                        ? DirtyKey.eraClosed("v", "a", random.nextInt(3))
                        : DirtyKey.region("v", "a", random.nextInt(3), random.nextInt(100));
                boolean live = random.nextInt(3) > 0;
                pending.onRecord(key, live, offset);
                if (!key.isEraClosed()) {
                    if (live) {
                        latestLive.put(key, offset);
                    } else {
                        latestLive.remove(key);
                    }
                }
                long expected = latestLive.isEmpty() ? offset + 1 : new TreeSet<>(latestLive.values()).first();
                assertThat(pending.commitOffset(offset + 1)).as("seed " + seed + " step " + step).isEqualTo(expected);
                assertThat(pending.pendingRecords()).isEqualTo(latestLive.size());
            }
        }
    }
}
