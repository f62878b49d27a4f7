package io.blockrep.common.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The scratch file of a file-format fuzz test: each input is written to it before the reader under
 * test opens it. Register it on the test class, {@code @RegisterExtension static final FuzzFile FILE =
 * new FuzzFile("bitmap-fuzz", "fuzz.bitmap");}: it makes a temporary folder before the class's tests and
 * deletes the file and the folder after them. Shared through common's test-jar; not thread-safe (Jazzer
 * runs one input at a time).
 */
public final class FuzzFile implements BeforeAllCallback, AfterAllCallback {
    private final String prefix;
    private final String name;
    private Path dir;

    /** A file {@code name} in a temporary folder named after {@code prefix}. */
    public FuzzFile(String prefix, String name) {
        this.prefix = prefix;
        this.name = name;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory(prefix);
    }

    /** Replaces the file's contents with {@code input}; returns the file. */
    public Path write(byte[] input) {
        try {
            return Files.write(dir.resolve(name), input);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        Files.deleteIfExists(dir.resolve(name));
        Files.deleteIfExists(dir);
    }
}
