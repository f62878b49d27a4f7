package io.blockrep.producer.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.common.volume.RegionGeometry;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.common.volume.VolumeMetadata;
import io.blockrep.common.volume.VolumeStore;
import io.blockrep.testkit.Checksums;
import io.blockrep.testkit.ExternalCommand;
import io.blockrep.testkit.ExternalCommand.Result;
import io.blockrep.testkit.ExternalCommand.Running;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real NBD clients (qemu-io, nbdcopy, nbdinfo, fio) against a real server over real volumes. */
class NbdServerIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final long VOL_SIZE = 128L << 20;
    private static final long COPY_SIZE = 64L << 20;

    @TempDir
    Path dir;

    private final List<Volume> volumes = new ArrayList<>();
    private VolumeMetadata vol;
    private VolumeMetadata copy;
    private NbdServer server;

    @BeforeEach
    void startServer() throws IOException {
        VolumeStore store = new VolumeStore(dir.resolve("state"));
        vol = store.create("vol", null, VOL_SIZE, RegionGeometry.DEFAULT_REGION_SIZE, Role.PRIMARY);
        copy = store.create("copy", null, COPY_SIZE, RegionGeometry.DEFAULT_REGION_SIZE, Role.PRIMARY);
        VolumeMetadata ro = store.create("ro", null, 16L << 20, RegionGeometry.DEFAULT_REGION_SIZE, Role.SECONDARY);
        server = new NbdServer(NbdServer.Config.of(NbdExportRegistry.of(
                export(vol, false), export(copy, false), export(ro, true))));
        server.start();
    }

    private NbdExport export(VolumeMetadata meta, boolean readOnly) {
        Volume v = Volume.open(meta, readOnly);
        volumes.add(v);
        return new LocalVolumeExport(v);
    }

    @AfterEach
    void stopServer() throws IOException {
        if (server != null) {
            server.close();
        }
        for (Volume v : volumes) {
            v.close();
        }
    }

    private String uri(String export) {
        return "nbd://127.0.0.1:" + server.port() + "/" + export;
    }

    private List<String> qemuIo(String export, String... commands) {
        List<String> argv = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (String c : commands) {
            argv.add("-c");
            argv.add(c);
        }
        argv.add(uri(export));
        return argv;
    }

    /** qemu-io exits 0 even when a command fails, so the output is checked too. */
    private static void assertQemuIoClean(Result r) {
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout() + r.stderr()).as(r.describe())
                .doesNotContainIgnoringCase("error")
                .doesNotContainIgnoringCase("failed")
                .doesNotContainIgnoringCase("mismatch");
    }

    @Test
    void qemuIoPatternsWrittenAtSeveralOffsetsReadBackOnANewConnection() throws IOException {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        String[][] patterns = {{"0xab", "0", "64k"}, {"0x5c", "1049088", "4k"}, {"0x11", "10m", "1m"},
                {"0xee", String.valueOf(VOL_SIZE - 8192), "8k"}};
        List<String> writes = new ArrayList<>();
        List<String> reads = new ArrayList<>();
        for (String[] p : patterns) {
            writes.add("write -P " + p[0] + " " + p[1] + " " + p[2]);
            reads.add("read -P " + p[0] + " " + p[1] + " " + p[2]);
        }
        Result w = ExternalCommand.run(TIMEOUT, qemuIo("vol", writes.toArray(String[]::new)));
        assertQemuIoClean(w);
        assertThat(w.stdout()).contains("wrote 65536/65536 bytes at offset 0");

        Result r = ExternalCommand.run(TIMEOUT, qemuIo("vol", reads.toArray(String[]::new)));
        assertQemuIoClean(r);
        assertThat(r.stdout()).contains("read 8192/8192 bytes at offset " + (VOL_SIZE - 8192));
        assertVolumeBytes(vol.path(), 1049088, 4096, (byte) 0x5c);
        assertVolumeBytes(vol.path(), 1049088 + 4096, 4096, (byte) 0);

        Result mismatch = ExternalCommand.run(TIMEOUT, qemuIo("vol", "read -P 0x77 0 4k"));
        assertThat(mismatch.stdout() + mismatch.stderr()).as("a wrong pattern is detected")
                .contains("Pattern verification failed");
    }

    @Test
    void nbdcopyRoundTripsA64MiBRandomFile() throws IOException {
        ExternalCommand.requireTool("nbdcopy", "libnbd-bin");
        Path source = dir.resolve("source.img");
        writeRandom(source, COPY_SIZE);
        Path back = dir.resolve("back.img");

        Result in = ExternalCommand.run(TIMEOUT, "nbdcopy", source.toString(), uri("copy"));
        assertThat(in.exitCode()).as(in.describe()).isZero();
        Result out = ExternalCommand.run(TIMEOUT, "nbdcopy", uri("copy"), back.toString());
        assertThat(out.exitCode()).as(out.describe()).isZero();

        String expected = Checksums.sha256(source);
        assertThat(Checksums.sha256(back)).isEqualTo(expected);
        assertThat(Checksums.sha256(copy.path())).as("the volume's backing file").isEqualTo(expected);
    }

    @Test
    void nbdinfoListsEveryExportAndReportsSize() {
        ExternalCommand.requireTool("nbdinfo", "libnbd-bin");
        Result list = ExternalCommand.run(TIMEOUT, "nbdinfo", "--list", "nbd://127.0.0.1:" + server.port());
        assertThat(list.exitCode()).as(list.describe()).isZero();
        assertThat(list.stdout()).contains("export=\"copy\"", "export=\"ro\"", "export=\"vol\"");

        Result json = ExternalCommand.run(TIMEOUT, "nbdinfo", "--json", uri("vol"));
        assertThat(json.exitCode()).as(json.describe()).isZero();
        assertThat(json.stdout().replace(" ", ""))
                .contains("\"export-size\":" + VOL_SIZE)
                .contains("\"is_read_only\":false")
                .contains("\"can_flush\":true", "\"can_fua\":true", "\"can_trim\":true", "\"can_zero\":true",
                        "\"can_multi_conn\":true")
                .contains("\"block_size_maximum\":" + NbdWire.MAX_PAYLOAD);

        Result ro = ExternalCommand.run(TIMEOUT, "nbdinfo", "--json", uri("ro"));
        assertThat(ro.stdout().replace(" ", "")).as(ro.describe()).contains("\"is_read_only\":true");

        Result unknown = ExternalCommand.run(TIMEOUT, "nbdinfo", uri("nope"));
        assertThat(unknown.exitCode()).as(unknown.describe()).isNotZero();
    }

    @Test
    void fioRandomWritesAtIodepth16Verify() {
        ExternalCommand.requireTool("fio", "fio");
        Result r = ExternalCommand.run(TIMEOUT, "fio", "--name=randwrite-crc", "--ioengine=nbd", "--uri=" + uri("vol"),
                "--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=32M", "--verify=crc32c", "--do_verify=1",
                "--verify_fatal=1", "--verify_state_save=0");
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout()).as(r.describe()).contains("err= 0").doesNotContain("verify: bad");
    }

    @Test
    void readOnlyExportRefusesQemuIoWrite() throws IOException {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        Result r = ExternalCommand.run(TIMEOUT, qemuIo("ro", "write -P 0xab 0 4k"));
        // qemu opens the image read-write, sees NBD_FLAG_READ_ONLY and refuses with EPERM.
        assertThat(r.exitCode()).as(r.describe()).isNotZero();
        assertThat(r.stdout() + r.stderr()).as(r.describe()).doesNotContain("wrote ").contains("Permission denied");
        assertVolumeBytes(dir.resolve("state/volumes/ro/data.img"), 0, 4096, (byte) 0);

        Result read = ExternalCommand.run(TIMEOUT, List.of("qemu-io", "-r", "-f", "raw", "-c", "read -P 0 0 64k", uri("ro")));
        assertQemuIoClean(read);
    }

    @Test
    void severalClientsWriteAndVerifyAtOnce() {
        ExternalCommand.requireTool("qemu-io", "qemu-utils");
        int clients = 6;
        List<Running> running = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                String pattern = "0x" + Integer.toHexString(0x20 + i);
                String offset = (i * 8) + "m";
                running.add(ExternalCommand.start(qemuIo("vol",
                        "write -P " + pattern + " " + offset + " 4m", "flush",
                        "read -P " + pattern + " " + offset + " 4m")));
            }
            for (Running p : running) {
                assertQemuIoClean(p.await(TIMEOUT));
            }
        } finally {
            running.forEach(Running::close);
        }
        List<String> reads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            reads.add("read -P 0x" + Integer.toHexString(0x20 + i) + " " + (i * 8) + "m 4m");
        }
        assertQemuIoClean(ExternalCommand.run(TIMEOUT, qemuIo("vol", reads.toArray(String[]::new))));
    }

    private static void writeRandom(Path file, long size) throws IOException {
        Random random = new Random(42);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long done = 0; done < size; done += chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk);
            }
        }
    }

    private static void assertVolumeBytes(Path file, long offset, int length, byte expected) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            ByteBuffer buf = ByteBuffer.allocate(length);
            ch.read(buf, offset);
            byte[] want = new byte[length];
            java.util.Arrays.fill(want, expected);
            assertThat(buf.array()).as("bytes of %s at %d", file, offset).isEqualTo(want);
        }
    }
}
