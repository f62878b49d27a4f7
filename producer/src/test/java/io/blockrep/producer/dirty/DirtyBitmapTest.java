package io.blockrep.producer.dirty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.FatalException;
import io.blockrep.common.volume.RegionGeometry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirtyBitmapTest {
    static final RegionGeometry GEOMETRY = new RegionGeometry(64L << 20, 4096); // 16384 regions, one bit page
    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("dirty-1.bitmap");
    }

    private DirtyBitmap create() {
        return DirtyBitmap.create(file(), "vol", "site-a", GEOMETRY, 1);
    }

    private DirtyBitmap reopen() {
        return DirtyBitmap.open(file(), "vol", "site-a", GEOMETRY, 1);
    }

    @Test
    void markReportsFirstTouchesAndMakesThemDurable() {
        try (DirtyBitmap bitmap = create()) {
            MarkResult first = bitmap.mark(10, 12).toCompletableFuture().join();
            assertThat(first.era()).isEqualTo(1);
            assertThat(first.firstTouches()).containsExactly(10L, 11L, 12L);
            assertThat(bitmap.isDirty(11)).isTrue();
            MarkResult overlap = bitmap.mark(12, 14).toCompletableFuture().join();
            assertThat(overlap.firstTouches()).containsExactly(13L, 14L);
            assertThat(bitmap.cardinality()).isEqualTo(5);
            assertThat(bitmap.regions().toArray()).containsExactly(10, 11, 12, 13, 14);
        }
    }

    @Test
    void remarkingDurableRegionsDoesNoIo() {
        try (DirtyBitmap bitmap = create()) {
            bitmap.mark(100, 110).toCompletableFuture().join();
            long flushes = bitmap.flushCount();
            long pages = bitmap.pagesWritten();
            CompletableFuture<MarkResult> again = bitmap.mark(102, 108).toCompletableFuture();
            assertThat(again).isCompleted();
            assertThat(again.join().firstTouchCount()).isZero();
            assertThat(bitmap.flushCount()).isEqualTo(flushes);
            assertThat(bitmap.pagesWritten()).isEqualTo(pages);
        }
    }

    @Test
    void bitIsNotReportedDirtyBeforeItIsDurableAndASecondMarkWaitsForIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        DurableBitSet.FlushHook hold = () -> assertThat(release.await(10, TimeUnit.SECONDS)).isTrue();
        try (DirtyBitmap bitmap = DirtyBitmap.create(file(), DirtyBitmap.header("vol", "site-a", GEOMETRY, 1), hold)) {
            CompletableFuture<MarkResult> first = bitmap.mark(7, 7).toCompletableFuture();
            CompletableFuture<MarkResult> second = bitmap.mark(7, 7).toCompletableFuture();
            assertThat(first).isNotDone();
            assertThat(second).isNotDone();
            assertThat(bitmap.isDirty(7)).isFalse();
            release.countDown();
            assertThat(first.join().firstTouches()).containsExactly(7L);
            assertThat(second.join().firstTouchCount()).isZero();
            assertThat(bitmap.isDirty(7)).isTrue();
        }
    }

    @Test
    void concurrentFirstTouchesShareOneFsync() throws Exception {
        int threads = 8;
        int marksPerThread = 100;
        CountDownLatch release = new CountDownLatch(1);
        DurableBitSet.FlushHook holdFirst = () -> assertThat(release.await(10, TimeUnit.SECONDS)).isTrue();
        List<CompletableFuture<MarkResult>> stages = new ArrayList<>();
        try (DirtyBitmap bitmap = DirtyBitmap.create(file(), DirtyBitmap.header("vol", "site-a", GEOMETRY, 1), holdFirst)) {
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * marksPerThread;
                workers.add(new Thread(() -> {
                    List<CompletableFuture<MarkResult>> mine = new ArrayList<>();
                    for (int i = 0; i < marksPerThread; i++) {
                        mine.add(bitmap.mark(base + i, base + i).toCompletableFuture());
                    }
                    synchronized (stages) {
                        stages.addAll(mine);
                    }
                }));
            }
            workers.forEach(Thread::start);
            for (Thread w : workers) {
                w.join();
            }
            // every mark is submitted while the first flush is held: at most one round is in flight
            release.countDown();
            CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            int marks = threads * marksPerThread;
            assertThat(bitmap.cardinality()).isEqualTo(marks);
            assertThat(stages.stream().mapToInt(s -> s.join().firstTouchCount()).sum()).isEqualTo(marks);
            System.out.printf("group commit (held first flush): %d marks, %d fsyncs%n", marks, bitmap.flushCount());
            assertThat(bitmap.flushCount()).isBetween(1L, 2L);
        }
    }

    @Test
    void freeRunningConcurrentMarksAreAllDurable() throws Exception {
        int threads = 8;
        int marksPerThread = 200;
        AtomicInteger done = new AtomicInteger();
        try (DirtyBitmap bitmap = create()) {
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * marksPerThread;
                workers.add(new Thread(() -> {
                    for (int i = 0; i < marksPerThread; i++) {
                        // as a writer would: wait for durability before the next write
                        bitmap.mark(base + i, base + i).toCompletableFuture().join();
                        done.incrementAndGet();
                    }
                }));
            }
            workers.forEach(Thread::start);
            for (Thread w : workers) {
                w.join();
            }
            int marks = threads * marksPerThread;
            assertThat(done.get()).isEqualTo(marks);
            assertThat(bitmap.cardinality()).isEqualTo(marks);
            System.out.printf("group commit (free running, %d writers waiting on each mark): %d marks, %d fsyncs, %.2f fsyncs/mark%n",
                    threads, marks, bitmap.flushCount(), (double) bitmap.flushCount() / marks);
            assertThat(bitmap.flushCount()).isLessThanOrEqualTo(marks);
        }
    }

    @Test
    void reopenAfterCloseShowsTheSameBits() {
        try (DirtyBitmap bitmap = create()) {
            bitmap.mark(0, 3);
            bitmap.mark(16383, 16383);
            bitmap.mark(5000, 5100);
        } // close flushes what is pending
        try (DirtyBitmap bitmap = reopen()) {
            assertThat(bitmap.cardinality()).isEqualTo(4 + 1 + 101);
            assertThat(bitmap.isDirty(16383)).isTrue();
            assertThat(bitmap.isDirty(4)).isFalse();
        }
    }

    @Test
    void crashKeepsEveryBitWhoseStageCompleted() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        AtomicInteger forces = new AtomicInteger();
        DurableBitSet.FlushHook holdSecond = () -> {
            if (forces.incrementAndGet() > 1) {
                never.await();
            }
        };
        DirtyBitmap bitmap = DirtyBitmap.create(file(), DirtyBitmap.header("vol", "site-a", GEOMETRY, 1), holdSecond);
        bitmap.mark(20, 29).toCompletableFuture().join();
        CompletableFuture<MarkResult> lost = bitmap.mark(40, 49).toCompletableFuture();
        assertThat(lost).isNotDone();
        bitmap.abandon();
        assertThat(lost).isCompletedExceptionally();
        try (DirtyBitmap after = reopen()) {
            assertThat(after.regions().contains(20L, 30L)).isTrue();
        }
    }

    @Test
    void flushFailureFailsPendingAndLaterMarks() {
        DurableBitSet.FlushHook failing = () -> {
            throw new IOException("simulated EIO");
        };
        DirtyBitmap bitmap = DirtyBitmap.create(file(), DirtyBitmap.header("vol", "site-a", GEOMETRY, 1), failing);
        CompletableFuture<MarkResult> stage = bitmap.mark(1, 1).toCompletableFuture();
        assertThatThrownBy(stage::join).hasCauseInstanceOf(FatalException.class).hasMessageContaining("simulated EIO");
        assertThat(bitmap.isDirty(1)).isFalse();
        assertThatThrownBy(() -> bitmap.mark(2, 2).toCompletableFuture().join()).hasCauseInstanceOf(FatalException.class);
        assertThatThrownBy(bitmap::close).isInstanceOf(FatalException.class).hasMessageContaining("simulated EIO");
    }

    @Test
    void markOutsideTheVolumeIsRejected() {
        try (DirtyBitmap bitmap = create()) {
            assertThatThrownBy(() -> bitmap.mark(16380, 16384)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> bitmap.mark(5, 4)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }

    /** Random marks against a BitSet model, with clean reopens and crash-reopens in between. */
    @Test
    void matchesBitSetModelAcrossRandomMarksAndReopens() throws IOException {
        RegionGeometry g = new RegionGeometry(3000L * 4096 + 2048, 4096); // short last region
        int regions = (int) g.regionCount();
        for (long seed = 1; seed <= 20; seed++) {
            java.util.Random random = new java.util.Random(seed);
            Path f = dir.resolve("model-" + seed + ".bitmap");
            BitSet model = new BitSet(regions);
            DirtyBitmap bitmap = DirtyBitmap.create(f, "vol", "n", g, seed);
            for (int step = 0; step < 300; step++) {
                int first = random.nextInt(regions);
                int last = Math.min(regions - 1, first + (random.nextInt(4) == 0 ? random.nextInt(200) : random.nextInt(3)));
                BitSet expectedNew = new BitSet();
                expectedNew.set(first, last + 1);
                expectedNew.andNot(model);
                model.set(first, last + 1);
                MarkResult result = bitmap.mark(first, last).toCompletableFuture().join();
                assertThat(result.firstTouches().toArray())
                        .as("seed %d step %d", seed, step)
                        .containsExactly(expectedNew.stream().asLongStream().toArray());
                int probe = random.nextInt(regions);
                assertThat(bitmap.isDirty(probe)).as("seed %d region %d", seed, probe).isEqualTo(model.get(probe));
                int r = random.nextInt(50);
                if (r == 0) {
                    bitmap.close();
                    bitmap = DirtyBitmap.open(f, "vol", "n", g, seed);
                } else if (r == 1) {
                    bitmap.abandon(); // every stage above completed, so nothing may be lost
                    bitmap = DirtyBitmap.open(f, "vol", "n", g, seed);
                }
            }
            assertThat(bitmap.cardinality()).isEqualTo(model.cardinality());
            assertThat(bitmap.regions().toArray()).containsExactly(model.stream().toArray());
            bitmap.close();
            try (DirtyBitmap reopened = DirtyBitmap.open(f, "vol", "n", g, seed)) {
                assertThat(LongStream.range(0, regions).filter(reopened::isDirty).toArray())
                        .containsExactly(model.stream().asLongStream().toArray());
            }
        }
    }
}
