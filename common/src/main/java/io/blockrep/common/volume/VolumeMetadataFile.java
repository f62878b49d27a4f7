package io.blockrep.common.volume;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.blockrep.common.FatalException;
import io.blockrep.common.io.FileIo;
import io.blockrep.common.io.FileModes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Owns the on-disk layout of a volume's metadata file: a small JSON document with a
 * {@code format} version. Format 2 added the generation history and the consistent flag; a
 * format 1 file reads as generation {@link Generation#CREATED}, consistent, and is written back
 * in the current format on its next change. Format 3 added the initial-sync state
 * ({@link InitialSync}); format 1 and 2 files read as {@link InitialSync#NONE}. An older build
 * refuses a format 3 file rather than ignore a pending initial sync. Format 4 adds {@code crc32c}, last: the
 * CRC32C (8 lowercase hex digits) of the document without that field, serialised compactly
 * ({@code {"magic":...}} with no spaces, fields in file order); a file whose checksum does not
 * match is refused as corrupt, so a flipped bit in a size, role or generation is never trusted (the
 * facility names the recovery command). Formats 1 to 3 carry no checksum and are read as before,
 * then written back as format 4 on their next change. Writes are atomic and durable:
 * write a temp file, fsync it, rename it over the old one, fsync the directory. A reader sees the
 * old or the new file, never a mix.
 */
public final class VolumeMetadataFile {
    public static final String MAGIC = "blockrep-volume";
    public static final int FORMAT_VERSION = 4;
    /** The field that holds the checksum (format 4 on). */
    public static final String CHECKSUM_FIELD = "crc32c";
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
        node.put("consistent", meta.consistent());
        node.put("initialSync", meta.initialSync().phase().name());
        node.put("initialSyncRegions", meta.initialSync().regions());
        GenerationHistory g = meta.generations();
        node.put("bitmapGeneration", String.format("%016x", g.bitmapGeneration()));
        node.put("generationShared", g.shared());
        ArrayNode list = node.putArray("generations");
        for (Generation e : g.entries()) {
            list.addObject().put("id", e.idText()).put("node", e.nodeId()).put("startedMillis", e.startEpochMillis());
        }
        try {
            node.put(CHECKSUM_FIELD, checksum(node));
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
        if (format < 1 || format > FORMAT_VERSION) {
            throw new FatalException(file + " has metadata format " + format + "; this build reads formats 1 to " + FORMAT_VERSION);
        }
        if (format >= 4) {
            verifyChecksum(file, (ObjectNode) node);
        }
        try {
            GenerationHistory generations = format == 1 ? GenerationHistory.created() : generations(node);
            return new VolumeMetadata(
                    node.path("id").asText(),
                    Path.of(node.path("path").asText()),
                    new RegionGeometry(node.path("size").asLong(), node.path("regionSize").asInt()),
                    Role.valueOf(node.path("role").asText()),
                    generations,
                    format == 1 || node.path("consistent").asBoolean(true),
                    format < 3 ? InitialSync.NONE : new InitialSync(InitialSync.Phase.valueOf(node.path("initialSync").asText()),
                            node.path("initialSyncRegions").asLong()));
        } catch (RuntimeException e) {
            throw new FatalException("corrupt volume metadata " + file + ": " + e.getMessage(), e);
        }
    }

    /** CRC32C of {@code node} without its checksum field, compact JSON, as 8 lowercase hex digits. */
    private static String checksum(ObjectNode node) throws IOException {
        ObjectNode copy = node.deepCopy();
        copy.remove(CHECKSUM_FIELD);
        CRC32C crc = new CRC32C();
        crc.update(JSON.writeValueAsBytes(copy));
        return String.format("%08x", crc.getValue());
    }

    private static void verifyChecksum(Path file, ObjectNode node) {
        JsonNode stored = node.get(CHECKSUM_FIELD);
        if (stored == null || !stored.isTextual()) {
            throw new FatalException("corrupt volume metadata " + file + ": format 4 without its " + CHECKSUM_FIELD + " field");
        }
        String actual;
        try {
            actual = checksum(node);
        } catch (IOException e) {
            throw new FatalException("cannot check volume metadata " + file + ": " + e.getMessage(), e);
        }
        if (!actual.equals(stored.asText())) {
            throw new FatalException("corrupt volume metadata " + file + ": checksum mismatch (stored " + stored.asText()
                    + ", content " + actual + ")");
        }
    }

    private static GenerationHistory generations(JsonNode node) {
        JsonNode list = node.path("generations");
        if (!list.isArray() || list.isEmpty()) {
            throw new IllegalArgumentException("no generations");
        }
        List<Generation> entries = new ArrayList<>();
        for (JsonNode e : list) {
            entries.add(new Generation(Long.parseUnsignedLong(e.path("id").asText(), 16), e.path("node").asText(),
                    e.path("startedMillis").asLong()));
        }
        return new GenerationHistory(entries, Long.parseUnsignedLong(node.path("bitmapGeneration").asText(), 16),
                node.path("generationShared").asBoolean());
    }

    /**
     * Write, fsync, rename, fsync the directory. The file is 0600 (a fresh temp file, so a looser
     * mode of the old file is not kept); a missing directory is created 0700.
     */
    public static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        FileModes.createPrivateDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = FileModes.openPrivate(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
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
