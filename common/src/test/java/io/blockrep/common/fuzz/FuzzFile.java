package io.blockrep.common.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The scratch file of a file-format fuzz test: each input is written to it before the reader under
 * test opens it. Open it in {@code @BeforeAll}, close it (deletes the file and its folder) in
 * {@code @AfterAll}. Shared through common's test-jar; not thread-safe (Jazzer runs one input at a time).
 */
public final class FuzzFile implements AutoCloseable {
    private final Path dir;
    private final Path file;

    private FuzzFile(Path dir, String name) {
        this.dir = dir;
        this.file = dir.resolve(name);
    }

    /** A file {@code name} in a new temporary folder named after {@code prefix}. */
    public static FuzzFile create(String prefix, String name) throws IOException {
        return new FuzzFile(Files.createTempDirectory(prefix), name);
    }

    /** Replaces the file's contents with {@code input}; returns the file. */
    public Path write(byte[] input) {
        try {
            return Files.write(file, input);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }
}
