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
    private static final String FILLER = ".tmpfs-filler";
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

    /**
     * Takes every free byte with a preallocated filler file ({@code fallocate}), so that the next
     * write needing a new page fails with ENOSPC, as on a full disk; {@link #unfill} frees it.
     * Files already allocated stay writable in place (tmpfs overwrites without new pages).
     */
    public void fill() {
        try {
            // A writer on the mount may take pages between reading the free space and the fallocate,
            // which then fails with ENOSPC: take what is free again, into another filler, a few times.
            for (int attempt = 0; attempt < 8; attempt++) {
                long free = Files.getFileStore(mountPoint).getUsableSpace();
                if (free <= 0) {
                    return;
                }
                Path filler = mountPoint.resolve(FILLER + (attempt == 0 ? "" : "-" + attempt));
                ExternalCommand.Result r = ExternalCommand.run(TIMEOUT, "fallocate", "-l", Long.toString(free), filler.toString());
                if (r.exitCode() == 0) {
                    return;
                }
                Files.deleteIfExists(filler);
            }
            throw new IllegalStateException("tmpfs: could not fill " + mountPoint + ": its free space kept changing");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes the fillers of {@link #fill}; does nothing when there are none. */
    public void unfill() {
        try (java.util.stream.Stream<Path> files = Files.list(mountPoint)) {
            for (Path p : files.filter(p -> p.getFileName().toString().startsWith(FILLER)).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
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
