package io.blockrep.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A small real tmpfs mounted on a test's directory, to give a volume a backing store that fills up
 * (writes fail with ENOSPC, as on a full disk) and then recovers ({@link #resize} grows it). Needs
 * root (the test machines and CI run as root); {@link #close} unmounts it.
 */
public final class Tmpfs implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final Path mountPoint;
    private boolean mounted;

    private Tmpfs(Path mountPoint) {
        this.mountPoint = mountPoint;
    }

    /** Mounts a tmpfs of {@code bytes} on {@code mountPoint} (created when missing). */
    public static Tmpfs mount(Path mountPoint, long bytes) {
        try {
            Files.createDirectories(mountPoint);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Tmpfs t = new Tmpfs(mountPoint);
        t.run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "blockrep-test", mountPoint.toString());
        t.mounted = true;
        return t;
    }

    public Path path() {
        return mountPoint;
    }

    /** Changes the size limit in place (the files stay): a larger size heals a full store. */
    public void resize(long bytes) {
        run("mount", "-o", "remount,size=" + bytes, mountPoint.toString());
    }

    private void run(String... command) {
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, command);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("tmpfs: " + r.describe());
        }
    }

    /** Unmounts; lazily when something still holds a file open, so the test's cleanup never hangs on it. */
    @Override
    public void close() {
        if (!mounted) {
            return;
        }
        mounted = false;
        ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, "umount", mountPoint.toString());
        if (r.exitCode() != 0) {
            run("umount", "-l", mountPoint.toString());
        }
    }
}
