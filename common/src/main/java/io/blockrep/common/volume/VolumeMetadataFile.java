package io.blockrep.common.volume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.blockrep.common.FatalException;
import io.blockrep.common.io.FileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Owns the on-disk layout of a volume's metadata file: a small JSON document with a
 * {@code format} version. Writes are atomic and durable: write a temp file, fsync it, rename it
 * over the old one, fsync the directory. A reader sees the old or the new file, never a mix.
 */
public final class VolumeMetadataFile {
    public static final String MAGIC = "blockrep-volume";
    public static final int FORMAT_VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private VolumeMetadataFile() {
    }

    public static void write(Path file, VolumeMetadata meta) {
        ObjectNode node = JSON.createObjectNode();
        node.put("magic", MAGIC);
        node.put("format", FORMAT_VERSION);
        node.put("id", meta.id());
        node.put("path", meta.path().toString());
        node.put("size", meta.size());
        node.put("regionSize", meta.regionSize());
        node.put("role", meta.role().name());
        try {
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(node);
            writeAtomically(file, bytes);
        } catch (IOException e) {
            throw new FatalException("cannot write volume metadata " + file + ": " + e.getMessage(), e);
        }
    }

    public static VolumeMetadata read(Path file) {
        JsonNode node;
        try {
            node = JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new FatalException("cannot read volume metadata " + file + ": " + e.getMessage(), e);
        }
        if (node == null || !MAGIC.equals(node.path("magic").asText())) {
            throw new FatalException(file + " is not a blockrep volume metadata file");
        }
        int format = node.path("format").asInt(-1);
        if (format != FORMAT_VERSION) {
            throw new FatalException(file + " has metadata format " + format + "; this build reads format " + FORMAT_VERSION);
        }
        try {
            return new VolumeMetadata(
                    node.path("id").asText(),
                    Path.of(node.path("path").asText()),
                    new RegionGeometry(node.path("size").asLong(), node.path("regionSize").asInt()),
                    Role.valueOf(node.path("role").asText()));
        } catch (RuntimeException e) {
            throw new FatalException("corrupt volume metadata " + file + ": " + e.getMessage(), e);
        }
    }

    /** Write, fsync, rename, fsync the directory. */
    public static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            FileIo.writeFully(ch, ByteBuffer.wrap(bytes), 0);
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("file system of " + dir + " cannot rename atomically", e);
        }
        // The rename is atomic either way; the directory fsync makes it durable where supported.
        FileIo.forceDirectoryIfSupported(dir);
    }
}
