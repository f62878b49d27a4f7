package io.blockrep.producer.dirty;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.blockrep.common.FatalException;
import io.blockrep.common.volume.VolumeMetadataFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.zip.CRC32C;

/**
 * Owns the layout of a volume's {@code eras.json}: which era is open and which closed eras are
 * still to be replayed. This class and its golden-file test are the only places that know it.
 *
 * <pre>
 * {"magic":"blockrep-eras","format":2,"volume":"vol","node":"site-a","openEra":7,"closedEras":[5,6],"crc32c":"1a2b3c4d"}
 *
 * magic       "blockrep-eras"
 * format      2 (format 1 had no magic and no crc32c; it is read, and written as 2 at the next change)
 * volume,node the owner; a file of another volume or node is refused, not repaired
 * openEra     &ge; 1, the era new writes go to
 * closedEras  strictly ascending, each &ge; 1 and &lt; openEra
 * crc32c      8 lower-case hex digits: CRC32C of the UTF-8 text
 *             volume + "\n" + node + "\n" + openEra + "\n" + closedEras joined by ","  (e.g. "vol\nsite-a\n7\n5,6")
 * </pre>
 *
 * The file is written atomically (temp file, fsync, rename, fsync the directory), so a crash never
 * leaves half of it; the checksum catches what happens to it afterwards. A file that does not parse,
 * fails its checksum or breaks a rule above throws {@link CorruptErasException}; the tracker then
 * treats every region as dirty (see {@link DirtyTracker}). Stateless and thread-safe.
 */
public final class ErasFile {
    public static final String MAGIC = "blockrep-eras";
    public static final int FORMAT_VERSION = 2;
    static final int FORMAT_VERSION_1 = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The content of an eras file. */
    public record Eras(String volumeId, String nodeId, long openEra, List<Long> closedEras) {
        public Eras {
            Objects.requireNonNull(volumeId, "volumeId");
            Objects.requireNonNull(nodeId, "nodeId");
            closedEras = List.copyOf(closedEras);
            List<String> problems = problems(openEra, closedEras);
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
        }

        static List<String> problems(long openEra, List<Long> closedEras) {
            List<String> p = new ArrayList<>();
            if (openEra < 1) {
                p.add("open era " + openEra + " is not positive");
            }
            long previous = 0;
            for (long e : closedEras) {
                if (e <= previous) {
                    p.add("closed eras " + closedEras + " are not positive and strictly ascending");
                    break;
                }
                previous = e;
            }
            if (previous >= openEra && openEra >= 1) {
                p.add("closed era " + previous + " is not below the open era " + openEra);
            }
            return p;
        }
    }

    /** Thrown when an eras file cannot be trusted; {@link #problem()} says why, without the file name. */
    public static final class CorruptErasException extends FatalException {
        private final String problem;

        CorruptErasException(Path file, String problem, Throwable cause) {
            super(file + " is corrupt: " + problem, cause);
            this.problem = problem;
        }

        public String problem() {
            return problem;
        }
    }

    private ErasFile() {
    }

    /** The bytes of {@code eras} in the current format. */
    public static byte[] encode(Eras eras) {
        ObjectNode node = JSON.createObjectNode();
        node.put("magic", MAGIC);
        node.put("format", FORMAT_VERSION);
        node.put("volume", eras.volumeId());
        node.put("node", eras.nodeId());
        node.put("openEra", eras.openEra());
        eras.closedEras().forEach(node.putArray("closedEras")::add);
        node.put("crc32c", crc(eras));
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code eras} to {@code file} atomically and durably. */
    public static void write(Path file, Eras eras) {
        try {
            VolumeMetadataFile.writeAtomically(file, encode(eras));
        } catch (IOException e) {
            throw new FatalException("cannot write " + file + ": " + e, e);
        }
    }

    /**
     * Reads {@code file}, checking it belongs to {@code volumeId} on {@code nodeId}. Throws
     * {@link CorruptErasException} for a damaged file, and {@link FatalException} for a missing or
     * unreadable one or one of another volume or node.
     */
    public static Eras read(Path file, String volumeId, String nodeId) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new FatalException(file + " does not exist", e);
        } catch (IOException e) {
            throw new FatalException("cannot read " + file + ": " + e, e);
        }
        Eras eras = decode(file, bytes);
        if (!volumeId.equals(eras.volumeId()) || !nodeId.equals(eras.nodeId())) {
            throw new FatalException(file + " belongs to volume '" + eras.volumeId() + "' on node '" + eras.nodeId()
                    + "', expected '" + volumeId + "' on '" + nodeId + "'");
        }
        return eras;
    }

    /** Parses and validates the bytes of an eras file; {@code file} names it in errors. */
    static Eras decode(Path file, byte[] bytes) {
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new CorruptErasException(file, "not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
        if (node == null || !node.isObject()) {
            throw new CorruptErasException(file, "not a JSON object", null);
        }
        int format = node.path("format").isInt() ? node.path("format").asInt() : -1;
        if (format != FORMAT_VERSION && format != FORMAT_VERSION_1) {
            throw new CorruptErasException(file, "format " + node.path("format") + "; this build reads formats "
                    + FORMAT_VERSION_1 + " and " + FORMAT_VERSION, null);
        }
        List<String> problems = new ArrayList<>();
        if (format == FORMAT_VERSION && !MAGIC.equals(node.path("magic").asText())) {
            problems.add("magic " + node.path("magic") + ", expected \"" + MAGIC + "\"");
        }
        String volume = text(node, "volume", problems);
        String nodeId = text(node, "node", problems);
        long openEra = number(node.path("openEra"), "openEra", problems);
        List<Long> closed = new ArrayList<>();
        JsonNode list = node.path("closedEras");
        if (!list.isArray()) {
            problems.add("closedEras is missing or not an array");
        } else {
            list.forEach(e -> closed.add(number(e, "closedEras element", problems)));
        }
        if (problems.isEmpty()) {
            problems.addAll(Eras.problems(openEra, closed));
        }
        if (!problems.isEmpty()) {
            throw new CorruptErasException(file, String.join("; ", problems), null);
        }
        Eras eras = new Eras(volume, nodeId, openEra, closed);
        if (format == FORMAT_VERSION) {
            String stored = node.path("crc32c").asText();
            String actual = crc(eras);
            if (!actual.equals(stored)) {
                throw new CorruptErasException(file, "checksum mismatch: stored crc32c '" + stored + "', computed '" + actual + "'", null);
            }
        }
        return eras;
    }

    private static String text(JsonNode node, String field, List<String> problems) {
        JsonNode v = node.path(field);
        if (!v.isTextual() || v.asText().isEmpty()) {
            problems.add(field + " is missing or not a non-empty string");
            return "";
        }
        return v.asText();
    }

    private static long number(JsonNode v, String what, List<String> problems) {
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            problems.add(what + " " + (v.isMissingNode() ? "is missing" : v + " is not an integer"));
            return 0;
        }
        return v.asLong();
    }

    static String crc(Eras eras) {
        String canonical = eras.volumeId() + "\n" + eras.nodeId() + "\n" + eras.openEra() + "\n"
                + eras.closedEras().stream().map(String::valueOf).collect(Collectors.joining(","));
        CRC32C crc = new CRC32C();
        crc.update(canonical.getBytes(StandardCharsets.UTF_8));
        return String.format("%08x", crc.getValue());
    }
}
