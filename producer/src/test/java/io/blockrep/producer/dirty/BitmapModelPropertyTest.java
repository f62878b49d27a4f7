package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.volume.RegionGeometry;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.roaringbitmap.RoaringBitmap;

/**
 * {@link DurableBitSet} over a {@link BitmapFile} against a {@link BitSet} model: random sets, clears,
 * flushes, clean close-reopen and crashes (drop without flush, tear or flip a page, truncate the file).
 * After every reopen the file holds every bit the model calls durable (a superset); after a clean close,
 * or a crash with nothing in flight and nothing torn, exactly the model's set.
 *
 * <p>Seeded: {@code -Dblockrep.bitmap.seed=N} reruns one seed (a failure prints it); without it a fixed
 * list of seeds plus one fresh seed run.
 */
class BitmapModelPropertyTest {
    /** 70000 regions: three bit pages, the last partial. */
    static final RegionGeometry GEOMETRY = new RegionGeometry(70_000L * 4096, 4096);
    static final BitmapFile.Header HEADER = new BitmapFile.Header(BitmapFile.Kind.DIRTY, "vol", "site-a", GEOMETRY, 1);
    static final int STEPS = 150;

    @TempDir
    Path dir;

    @Test
    void fileAlwaysHoldsEveryDurableBitOfTheModel() throws Exception {
        String fixed = System.getProperty("blockrep.bitmap.seed");
        List<Long> seeds = new ArrayList<>();
        if (fixed != null) {
            seeds.add(Long.parseLong(fixed));
        } else {
            for (long s = 1; s <= 12; s++) {
                seeds.add(s);
            }
            seeds.add(System.nanoTime());
        }
        for (long seed : seeds) {
            try {
                run(seed);
            } catch (AssertionError | Exception e) {
                throw new AssertionError("bitmap model property failed for seed " + seed
                        + "; rerun: mvn -o -pl producer -am -Dtest=BitmapModelPropertyTest -Dsurefire.failIfNoSpecifiedTests=false "
                        + "-Dblockrep.bitmap.seed=" + seed + " test", e);
            }
        }
    }

    private void run(long seed) throws Exception {
        Random rnd = new Random(seed);
        Path file = dir.resolve("seed-" + seed + ".bitmap");
        BitSet durable = new BitSet(); // set, acknowledged as durable, and not cleared since
        BitSet current = new BitSet(); // every bit set and not cleared: what a clean close leaves
        DurableBitSet bits = new DurableBitSet(BitmapFile.create(file, HEADER), DurableBitSet.FlushHook.NONE);
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int step = 0; step < STEPS; step++) {
            int op = rnd.nextInt(100);
            if (op < 45) {
                long first = region(rnd);
                long last = Math.min(GEOMETRY.regionCount() - 1, first + rnd.nextInt(rnd.nextBoolean() ? 4 : 300));
                current.set((int) first, (int) last + 1);
                CompletableFuture<long[]> f = bits.set(first, last);
                pending.add(f.thenRun(() -> { // on the flusher thread; clears wait for every pending set first
                    synchronized (durable) {
                        durable.set((int) first, (int) last + 1);
                    }
                }));
            } else if (op < 55 && !current.isEmpty()) {
                RoaringBitmap clear = new RoaringBitmap();
                for (int i = 0; i < 1 + rnd.nextInt(20); i++) {
                    int r = current.nextSetBit(rnd.nextInt((int) GEOMETRY.regionCount()));
                    if (r >= 0) {
                        clear.add(r);
                    }
                }
                join(pending); // a clear only ever follows the marks it undoes, as cooling follows the peer's flush
                clear.forEach((int r) -> {
                    current.clear(r);
                    synchronized (durable) {
                        durable.clear(r);
                    }
                });
                pending.add(bits.clear(clear));
            } else if (op < 70) {
                join(pending);
                assertDurableView(bits, current);
            } else if (op < 80) {
                join(pending);
                bits.close();
                bits = reopen(file, current, durable, true);
            } else {
                boolean quiet = rnd.nextBoolean();
                if (quiet) {
                    join(pending);
                }
                bits.abandon();
                pending.clear();
                int damage = rnd.nextInt(4); // 0, 1: none; 2: tear or flip a page; 3: truncate
                if (damage == 2) {
                    tear(file, rnd);
                } else if (damage == 3) {
                    truncate(file, rnd);
                    assertThatThrownBy(() -> BitmapFile.open(file, HEADER)).isInstanceOf(CorruptBitmapException.class);
                    // as the tracker does: a file that cannot be trusted as a whole comes back with every region set
                    Files.delete(file);
                    BitmapFile all = BitmapFile.create(file, HEADER);
                    all.setAll();
                    all.flush();
                    all.close();
                    current.set(0, (int) GEOMETRY.regionCount());
                    durable.set(0, (int) GEOMETRY.regionCount());
                }
                bits = reopen(file, current, durable, quiet && damage < 2);
            }
        }
        join(pending);
        bits.close();
        reopen(file, current, durable, true).close();
    }

    /** Reopens and checks the file against the model; adopts the file's set as the model's (it is what survived). */
    private static DurableBitSet reopen(Path file, BitSet current, BitSet durable, boolean exact) {
        BitmapFile f = BitmapFile.open(file, HEADER);
        BitSet found = toBitSet(f.toRoaring());
        BitSet missing;
        synchronized (durable) {
            missing = (BitSet) durable.clone();
        }
        missing.andNot(found);
        assertThat(missing.isEmpty()).as("durable bits lost: %s", missing).isTrue();
        if (exact) {
            assertThat(found).as("after a clean close or a quiet crash").isEqualTo(current);
        }
        current.clear();
        current.or(found);
        synchronized (durable) {
            durable.clear();
            durable.or(found);
        }
        return new DurableBitSet(f, DurableBitSet.FlushHook.NONE);
    }

    private static void assertDurableView(DurableBitSet bits, BitSet current) {
        assertThat(toBitSet(bits.durableRegions())).isEqualTo(current);
    }

    /** Overwrites a random run of bytes of one bit page with garbage: a torn write or flipped bits. */
    private static void tear(Path file, Random rnd) throws IOException {
        int page = rnd.nextInt(BitmapFile.pageCount(GEOMETRY.regionCount()));
        long at = BitmapFile.HEADER_SIZE + (long) page * BitmapFile.PAGE_SIZE + rnd.nextInt(BitmapFile.PAGE_SIZE - 512);
        byte[] junk = new byte[1 + rnd.nextInt(512)];
        rnd.nextBytes(junk);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(at);
            raf.write(junk);
        }
    }

    private static void truncate(Path file, Random rnd) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(rnd.nextInt((int) raf.length()));
        }
    }

    private static long region(Random rnd) {
        // clustered near page boundaries half the time, to cross them
        if (rnd.nextBoolean()) {
            long boundary = (long) (1 + rnd.nextInt(2)) * BitmapFile.REGIONS_PER_PAGE;
            return Math.max(0, boundary - 1 - rnd.nextInt(8));
        }
        return rnd.nextInt((int) GEOMETRY.regionCount());
    }

    private static BitSet toBitSet(RoaringBitmap bits) {
        BitSet b = new BitSet();
        bits.forEach((int r) -> b.set(r));
        return b;
    }

    private static void join(List<CompletableFuture<?>> pending) {
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        pending.clear();
    }
}
