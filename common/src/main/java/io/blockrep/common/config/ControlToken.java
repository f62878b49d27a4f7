package io.blockrep.common.config;

import io.blockrep.common.InvalidInputException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A control-API bearer token kept in a file: what the facility checks ({@code producer.control.token.file},
 * {@code producer.control.read.token.file}) and what its clients send ({@code replayer.control.token.file},
 * {@code blockrep ... --token-file}). The file holds one line of at least {@value #MIN_LENGTH} visible
 * ASCII characters (no spaces); surrounding whitespace and the final newline are ignored.
 */
public final class ControlToken {
    public static final int MIN_LENGTH = 16;

    private ControlToken() {
    }

    /** The token in {@code file}; an {@link InvalidInputException} (exit 78) naming {@code key} when it is unusable. */
    public static String read(String key, Path file) {
        String problem = problem(key, file);
        if (problem != null) {
            throw InvalidInputException.config(java.util.List.of(problem));
        }
        io.blockrep.common.io.FileModes.warnIfExposed(file, "holds a control API token (" + key + ")");
        try {
            return readUnchecked(file);
        } catch (IOException e) {
            throw InvalidInputException.config(java.util.List.of(key + ": cannot read the token file " + file + " (" + e + ")"));
        }
    }

    /** What is wrong with the token file, or null when it holds a usable token. */
    public static String problem(String key, Path file) {
        String token;
        try {
            token = readUnchecked(file);
        } catch (IOException e) {
            return key + ": cannot read the token file " + file + " (" + e + ")";
        }
        if (token.length() < MIN_LENGTH) {
            return key + ": the token in " + file + " must be at least " + MIN_LENGTH + " characters";
        }
        if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return key + ": the token in " + file + " must be one line of visible ASCII characters (no spaces)";
        }
        return null;
    }

    private static String readUnchecked(Path file) throws IOException {
        return Files.readString(file).strip();
    }

    /** A new random token (32 hex digits) written to {@code file}, readable by its owner only (0600). */
    public static String create(Path file) throws IOException {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        String token = HexFormat.of().formatHex(bytes);
        io.blockrep.common.io.FileModes.createPrivateDirectories(file.toAbsolutePath().getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        io.blockrep.common.io.FileModes.createPrivateFile(tmp); // 0600 from the start, whatever the umask
        Files.writeString(tmp, token + "\n");
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return token;
    }

    /**
     * True when {@code host} names only this machine's loopback interface (127.0.0.0/8, ::1,
     * localhost). A wildcard (0.0.0.0, ::), any other address and a name that does not resolve are not.
     */
    public static boolean isLoopback(String host) {
        try {
            InetAddress[] all = InetAddress.getAllByName(host);
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
