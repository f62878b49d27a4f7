package io.blockrep.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockrep.testkit.ExternalCommand;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Writes with qemu-io: patterned 256 KiB writes at random 4 KiB-aligned offsets, one qemu-io run. */
final class ScatteredWrites {
    private static final long WRITE = 256 << 10;

    private ScatteredWrites() {
    }

    /** About {@code bytes} of writes spread over a volume of {@code size} bytes (overlaps make the dirty set a bit smaller). */
    static void write(String uri, long size, long bytes, long seed) {
        Random random = new Random(seed);
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", uri));
        for (long done = 0; done < bytes; done += WRITE) {
            long offset = (long) random.nextInt((int) ((size - WRITE) / 4096)) * 4096;
            cmd.addAll(List.of("-c", "write -P " + (1 + random.nextInt(250)) + " " + offset + " " + WRITE));
        }
        cmd.addAll(List.of("-c", "flush"));
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(120), cmd);
        assertThat(r.exitCode()).as(r.describe()).isZero();
        assertThat(r.stdout() + r.stderr()).as(r.describe()).doesNotContain("error").doesNotContain("failed");
    }

    /** A flush through the export, so that everything written is on both sides' disks before comparing. */
    static void flush(String uri) {
        ExternalCommand.Result r = ExternalCommand.run(Duration.ofSeconds(60), "qemu-io", "-f", "raw", uri, "-c", "flush");
        assertThat(r.exitCode()).as(r.describe()).isZero();
    }
}
