package io.blockrep.testkit;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;

/**
 * Runs an external program (qemu-io, nbdcopy, fio, nbdkit) from a test. Output goes to temporary
 * files, so a chatty program never blocks on a full pipe. A process that outlives its timeout, or
 * a {@link Running} process that is closed, is destroyed (forcibly if it ignores SIGTERM).
 */
public final class ExternalCommand {
    private ExternalCommand() {
    }

    /** How a finished program ended. */
    public record Result(List<String> command, int exitCode, String stdout, String stderr) {
        /** Output for assertion messages. */
        public String describe() {
            return String.join(" ", command) + "\nexit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    /**
     * Fails the calling test unless {@code program} is on the PATH, naming the Debian package
     * that provides it.
     */
    public static void requireTool(String program, String debianPackage) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return;
            }
        }
        Assertions.fail(program + " is not on the PATH; install the Debian package '" + debianPackage
                + "' (apt-get install " + debianPackage + ")");
    }

    /** Runs {@code command} to completion; fails the test if it takes longer than {@code timeout}. */
    public static Result run(Duration timeout, List<String> command) {
        try (Running running = start(command)) {
            return running.await(timeout);
        }
    }

    public static Result run(Duration timeout, String... command) {
        return run(timeout, List.of(command));
    }

    /** Starts {@code command} in the background; close the handle to stop it. */
    public static Running start(List<String> command) {
        try {
            Path out = Files.createTempFile("cmd-", ".out");
            Path err = Files.createTempFile("cmd-", ".err");
            Process process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            return new Running(List.copyOf(command), process, out, err);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + command + ": " + e.getMessage(), e);
        }
    }

    /** A started program. Not thread-safe. */
    public static final class Running implements AutoCloseable {
        private static final int MAX_OUTPUT = 4 << 20;
        private final List<String> command;
        private final Process process;
        private final Path out;
        private final Path err;

        private Running(List<String> command, Process process, Path out, Path err) {
            this.command = command;
            this.process = process;
            this.out = out;
            this.err = err;
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** Waits for exit; on timeout destroys the process and fails with its output so far. */
        public Result await(Duration timeout) {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    destroy();
                    Assertions.fail("timed out after " + timeout + ": " + String.join(" ", command)
                            + "\n--- stdout\n" + read(out) + "\n--- stderr\n" + read(err));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                destroy();
                throw new IllegalStateException("interrupted waiting for " + command, e);
            }
            return new Result(command, process.exitValue(), read(out), read(err));
        }

        public long pid() {
            return process.pid();
        }

        /** Sends SIGTERM and returns at once; {@link #await} collects the exit. */
        public void terminate() {
            process.destroy();
        }

        /** SIGKILL: the process gets no chance to clean up (a crash, as far as its files are concerned). */
        public void kill() {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /**
         * Sends a signal by name ({@code STOP}, {@code CONT}, {@code KILL}, ...) with kill(1); false
         * when the process is gone (a fault test may signal a process another fault already killed).
         */
        public boolean signal(String name) {
            if (!process.isAlive()) {
                return false;
            }
            return ExternalCommand.run(Duration.ofSeconds(10), "kill", "-" + name, Long.toString(process.pid())).exitCode() == 0;
        }

        /** Output written so far. */
        public String stdout() {
            return read(out);
        }

        public String stderr() {
            return read(err);
        }

        private void destroy() {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                destroy();
            }
            try {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            } catch (IOException ignored) {
                // temp files; the OS cleans up eventually
            }
        }

        /** The output, or its last {@value #MAX_OUTPUT} bytes when a runaway program wrote more (it would not fit a String). */
        private static String read(Path p) {
            try {
                long size = Files.size(p);
                if (size > MAX_OUTPUT) {
                    try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(p)) {
                        java.nio.ByteBuffer tail = java.nio.ByteBuffer.allocate(MAX_OUTPUT);
                        c.read(tail, size - MAX_OUTPUT);
                        return "<" + (size - MAX_OUTPUT) + " bytes left out>" + new String(tail.array(), 0, tail.position(), StandardCharsets.UTF_8);
                    }
                }
                return Files.readString(p, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "<cannot read " + p + ": " + e.getMessage() + ">";
            }
        }
    }
}
