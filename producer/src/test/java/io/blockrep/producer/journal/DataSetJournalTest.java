package io.blockrep.producer.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.FatalException;
import io.blockrep.common.link.DataSetCrc;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal's layout (golden file) and its recovery verdicts: committed means re-applied whole,
 * anything else (no commit, a torn tail, any flipped byte) means the volume untouched: discarded, or kept aside
 * and reported when a commit record of the set follows the damage (it may have been partly applied).
 * To regenerate the golden file after a deliberate format change (with a version bump), run with
 * {@code -Dblockrep.golden.update=true}.
 */
class DataSetJournalTest {
    private static final long SIZE = 256 * 1024;

    @TempDir
    Path dir;
    VolumeStore store;
    Volume volume;
    Path volumeDir;

    @BeforeEach
    void open() {
        store = new VolumeStore(dir);
        volume = Volume.open(store.create("vol-a", null, SIZE, 4096, Role.SECONDARY), false);
        volumeDir = store.volumeDir("vol-a");
    }

    @AfterEach
    void close() throws IOException {
        volume.close();
    }

    @Test
    void layoutMatchesTheGoldenFile() throws Exception {
        Path file = goldenJournal();
        byte[] bytes = Files.readAllBytes(file);
        if (Boolean.getBoolean("blockrep.golden.update")) {
            Files.write(Path.of("src/test/resources/golden/journal/v2/set-3.journal"), bytes);
        }
        try (InputStream in = getClass().getResourceAsStream("/golden/journal/v2/set-3.journal")) {
            assertThat(in).as("golden journal").isNotNull();
            assertThat(bytes).isEqualTo(in.readAllBytes());
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        assertThat(b.getInt(0)).isEqualTo(0x42524A4C);
        assertThat(b.getShort(4)).isEqualTo((short) 2);
        assertThat(b.getShort(6)).isEqualTo((short) 5);
        assertThat(new String(bytes, 8, 5, StandardCharsets.UTF_8)).isEqualTo("vol-a");
        assertThat(b.getLong(13)).isEqualTo(3L);
        int first = 25;
        assertThat(b.get(first)).isEqualTo((byte) 1);
        assertThat(b.getLong(first + 1)).isEqualTo(65536L);
        assertThat(b.getInt(first + 9)).isEqualTo(8);
        assertThat(new String(bytes, first + 13, 8, StandardCharsets.US_ASCII)).isEqualTo("blockrep");
        int commit = bytes.length - 21;
        assertThat(b.get(commit)).isEqualTo((byte) 2);
        assertThat(b.getInt(commit + 1)).isEqualTo(2);
        assertThat(b.getLong(commit + 5)).isEqualTo(10L);
        DataSetCrc crc = new DataSetCrc().add(65536, ascii("blockrep")).add(0, ascii("xy"));
        assertThat(b.getInt(commit + 13)).isEqualTo(crc.value());
        CRC32C seeded = new CRC32C();
        seeded.update(ByteBuffer.allocate(8).putLong(0, 3L));
        seeded.update(bytes, commit, 17);
        assertThat(b.getInt(commit + 17)).as("record CRCs are seeded with the set id").isEqualTo((int) seeded.getValue());
    }

    @Test
    void aVersion1JournalIsStillRecovered() throws Exception {
        Files.createDirectories(DataSetJournal.directory(volumeDir));
        try (InputStream in = getClass().getResourceAsStream("/golden/journal/v1/set-3.journal")) {
            assertThat(in).as("version 1 golden journal").isNotNull();
            Files.write(DataSetJournal.file(volumeDir, 3), in.readAllBytes());
        }
        DataSetJournal.Recovery r = DataSetJournal.recover(volumeDir, volume);
        assertThat(r.reapplied()).containsExactly(3L);
        assertThat(read(65536, 8)).isEqualTo(ascii("blockrep").array());
        assertThat(read(0, 2)).isEqualTo(ascii("xy").array());
    }

    @Test
    void aDroppedJournalIsNeverAppliedAgainAndIsRemovedAtRecovery() throws Exception {
        DataSetJournal j = DataSetJournal.create(volumeDir, "vol-a", 20);
        j.append(0, random(1, 8192));
        j.commit();
        j.apply(volume);
        j.drop();
        volume.write(0, random(9, 8192)); // a later write the old set must not undo
        String expected = sha256(volume);
        assertThat(DataSetJournal.live(volumeDir)).isEmpty();
        j.close(); // crash

        DataSetJournal.Recovery r = DataSetJournal.recover(volumeDir, volume);

        assertThat(r.reapplied()).isEmpty();
        assertThat(r.discarded()).isEmpty();
        assertThat(r.alreadyApplied()).as("reported, not only removed (issue #12, seen 5)").containsExactly(20L);
        assertThat(r.summary()).contains("already applied before the stop [20]");
        assertThat(sha256(volume)).isEqualTo(expected);
        assertThat(DataSetJournal.file(volumeDir, 20)).doesNotExist();
    }

    @Test
    void theNextSetInADroppedJournalIsAppliedWholeAfterACrashDuringApply() throws Exception {
        DataSetJournal first = DataSetJournal.create(volumeDir, "vol-a", 21);
        first.append(0, random(1, 16384));
        first.append(32768, random(2, 16384));
        first.commit();
        first.apply(volume);
        first.drop();
        List<ByteBuffer> data = List.of(random(3, 4096));
        long[] offsets = {65536};
        DataSetJournal next = first.next("vol-a", 22);
        next.append(offsets[0], data.get(0));
        next.commit();
        assertThat(DataSetJournal.live(volumeDir)).containsExactly(DataSetJournal.file(volumeDir, 21));
        next.close(); // crash before apply
        String expected = expectedSha(offsets, data);

        DataSetJournal.Recovery r = DataSetJournal.recover(volumeDir, volume);

        assertThat(r.reapplied()).containsExactly(22L);
        assertThat(sha256(volume)).isEqualTo(expected);
    }

    @Test
    void recordsLeftBehindByTheSetBeforeNeverPassAsTheNextSets() throws Exception {
        // The next set's first record ends exactly where the old set's first record ended, so the old
        // set's second record and commit follow it in the file; under version 1 CRCs they would read back.
        DataSetJournal first = DataSetJournal.create(volumeDir, "vol-a", 23);
        first.append(0, random(1, 4096));
        first.append(8192, random(2, 4096));
        first.commit();
        first.apply(volume);
        first.drop();
        DataSetJournal next = first.next("vol-a", 24);
        next.append(16384, random(3, 4096));
        next.close(); // crash before the next set's commit
        String before = sha256(volume);

        DataSetJournal reread = DataSetJournal.open(DataSetJournal.file(volumeDir, 23));
        assertThat(reread.setId()).isEqualTo(24L);
        assertThat(reread.extentCount()).isEqualTo(1);
        reread.close();
        DataSetJournal.Recovery r = DataSetJournal.recover(volumeDir, volume);

        assertThat(r.reapplied()).isEmpty();
        assertThat(r.discarded()).containsExactly(24L);
        assertThat(sha256(volume)).isEqualTo(before);
    }

    @Test
    void onlyADroppedJournalTakesTheNextSet() throws Exception {
        DataSetJournal j = DataSetJournal.create(volumeDir, "vol-a", 25);
        j.append(0, random(1, 4096));
        assertThatThrownBy(() -> j.next("vol-a", 26)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(j::drop).isInstanceOf(IllegalStateException.class);
        j.delete();
    }

    @Test
    void aCommittedJournalIsReappliedAndDeleted() throws Exception {
        Path file = goldenJournal();
        DataSetJournal.Recovery r = DataSetJournal.recover(volumeDir, volume);
        assertThat(r.reapplied()).containsExactly(3L);
        assertThat(r.discarded()).isEmpty();
        assertThat(file).doesNotExist();
        assertThat(read(65536, 8)).isEqualTo(ascii("blockrep").array());
        assertThat(read(0, 2)).isEqualTo(ascii("xy").array());
    }

    @Test
    void crashBeforeCommitRecoveryDiscardsTheJournalAndLeavesTheVolumeUnchanged() throws Exception {
        String before = sha256(volume);
        DataSetJournal j = DataSetJournal.create(volumeDir, "vol-a", 9);
        j.append(0, random(1, 8192));
        j.append(16384, random(2, 4096));
        j.close();
        DataSetJournal.Recovery r = DataSetJournal.recover(volumeDir, volume);
        assertThat(r.discarded()).containsExactly(9L);
        assertThat(r.reapplied()).isEmpty();
        assertThat(DataSetJournal.file(volumeDir, 9)).doesNotExist();
        assertThat(sha256(volume)).isEqualTo(before);
    }

    @Test
    void crashDuringApplyRecoveryReappliesTheWholeSet() throws Exception {
        List<ByteBuffer> data = List.of(random(1, 8192), random(2, 4096), random(3, 12288));
        long[] offsets = {0, 16384, SIZE - 12288};
        DataSetJournal j = DataSetJournal.create(volumeDir, "vol-a", 10);
        for (int i = 0; i < data.size(); i++) {
            j.append(offsets[i], data.get(i));
        }
        j.commit();
        volume.write(offsets[0], data.get(0).duplicate());
        j.close(); // "crash": only the first extent reached the volume
        String expected = expectedSha(offsets, data);

        DataSetJournal.Recovery r = DataSetJournal.recover(volumeDir, volume);

        assertThat(r.reapplied()).containsExactly(10L);
        assertThat(sha256(volume)).isEqualTo(expected);
        assertThat(DataSetJournal.file(volumeDir, 10)).doesNotExist();
        assertThat(DataSetJournal.recover(volumeDir, volume).reapplied()).isEmpty();
    }

    @Test
    void everyTornTailIsDiscarded() throws Exception {
        byte[] full = Files.readAllBytes(goldenJournal());
        Path file = DataSetJournal.file(volumeDir, 3);
        String before = sha256(volume);
        for (int cut = 0; cut < full.length; cut++) {
            Files.write(file, Arrays.copyOf(full, cut));
            assertThat(DataSetJournal.recover(volumeDir, volume).discarded()).as("cut at %d", cut).containsExactly(3L);
            assertThat(file).doesNotExist();
        }
        assertThat(sha256(volume)).isEqualTo(before);
    }

    @Test
    void everyFlippedByteIsDiscarded() throws Exception {
        byte[] full = Files.readAllBytes(goldenJournal());
        Path file = DataSetJournal.file(volumeDir, 3);
        String before = sha256(volume);
        for (int at = 0; at < full.length; at++) {
            byte[] bad = full.clone();
            bad[at] ^= 0x10;
            Files.write(file, bad);
            DataSetJournal.Recovery r = DataSetJournal.recover(volumeDir, volume);
            assertThat(r.reapplied()).as("flip at %d", at).isEmpty();
        }
        assertThat(sha256(volume)).isEqualTo(before);
    }

    /**
     * A committed journal damaged afterwards may have been partly applied: it is not silently discarded (nor applied,
     * its data is not trusted) but kept aside and reported, so that the facility marks the copy inconsistent.
     */
    @Test
    void aCorruptRecordBeforeAValidCommitIsKeptAsideAndReportedNotDiscarded() throws Exception {
        byte[] bad = Files.readAllBytes(goldenJournal());
        bad[25 + 13 + 2] ^= 0x10; // the first extent's data
        Path file = DataSetJournal.file(volumeDir, 3);
        Files.write(file, bad);
        String before = sha256(volume);
        DataSetJournal.Recovery r = DataSetJournal.recover(volumeDir, volume);
        assertThat(r.reapplied()).isEmpty();
        assertThat(r.discarded()).isEmpty();
        assertThat(r.corrupt()).singleElement().asString().startsWith("set-3.journal (a record at byte 25 fails its checksum");
        assertThat(r.summary()).contains("corrupt and possibly committed");
        assertThat(sha256(volume)).isEqualTo(before);
        assertThat(file).doesNotExist();
        try (var aside = Files.list(DataSetJournal.directory(volumeDir))) {
            assertThat(aside.map(p -> p.getFileName().toString())).singleElement().asString().startsWith("set-3.journal.corrupt-");
        }
    }

    @Test
    void aJournalWithABadHeaderIsKeptAsideAndReported() throws Exception {
        byte[] bad = Files.readAllBytes(goldenJournal());
        bad[10] ^= 0x01; // the volume id, under the header checksum
        Files.write(DataSetJournal.file(volumeDir, 3), bad);
        assertThat(DataSetJournal.recover(volumeDir, volume).corrupt()).singleElement().asString().contains("header checksum mismatch");
    }

    @Test
    void aCommittedJournalOfAnotherVolumeIsFatalAndKept() throws Exception {
        DataSetJournal j = DataSetJournal.create(volumeDir, "vol-b", 4);
        j.append(0, random(1, 4096));
        j.commit();
        j.close();
        assertThatThrownBy(() -> DataSetJournal.recover(volumeDir, volume)).isInstanceOf(FatalException.class)
                .hasMessageContaining("vol-b");
        assertThat(DataSetJournal.file(volumeDir, 4)).exists();
    }

    @Test
    void aSecondJournalForTheSameSetIsRefused() throws Exception {
        DataSetJournal j = DataSetJournal.create(volumeDir, "vol-a", 5);
        assertThatThrownBy(() -> DataSetJournal.create(volumeDir, "vol-a", 5)).isInstanceOf(IOException.class);
        j.delete();
        assertThat(DataSetJournal.file(volumeDir, 5)).doesNotExist();
    }

    /** Set 3 of vol-a: "blockrep" at 65536, "xy" at 0, committed; left on disk as after a crash before apply. */
    private Path goldenJournal() throws IOException {
        DataSetJournal j = DataSetJournal.create(volumeDir, "vol-a", 3);
        j.append(65536, ascii("blockrep"));
        j.append(0, ascii("xy"));
        j.commit();
        j.close();
        return DataSetJournal.file(volumeDir, 3);
    }

    private String expectedSha(long[] offsets, List<ByteBuffer> data) throws Exception {
        byte[] image = new byte[(int) SIZE];
        ByteBuffer all = ByteBuffer.wrap(image);
        volume.read(0, all);
        for (int i = 0; i < offsets.length; i++) {
            ByteBuffer d = data.get(i).duplicate();
            d.get(image, (int) offsets[i], d.remaining());
        }
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(image));
    }

    private byte[] read(long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        volume.read(offset, b);
        return b.array();
    }

    static String sha256(Volume v) throws Exception {
        ByteBuffer b = ByteBuffer.allocate((int) v.size());
        v.read(0, b);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b.array()));
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static ByteBuffer random(long seed, int length) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return ByteBuffer.wrap(b);
    }
}
