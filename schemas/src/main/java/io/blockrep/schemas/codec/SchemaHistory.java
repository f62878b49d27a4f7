package io.blockrep.schemas.codec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * Earlier versions of blockrep's value schemas, kept as resources under {@code io/blockrep/schemas/history/}
 * (one {@code .avsc} per version, exactly as it was released): a single-object value carries only
 * its schema's fingerprint, so a reader must know every schema a writer may have used to resolve the
 * value into the current one. The registry holds them too, by id, for the Confluent format.
 *
 * <p>Versions: VolumeEvent v2 added {@code host} (default null); v1 is in the history.
 */
public final class SchemaHistory {
    private static final Map<String, List<String>> EARLIER = Map.of("io.blockrep.schemas.VolumeEvent", List.of("VolumeEvent-v1.avsc"));

    private SchemaHistory() {
    }

    /** The earlier versions of {@code current} (same full name), oldest first; empty when it has none. */
    public static List<Schema> earlier(Schema current) {
        return EARLIER.getOrDefault(current.getFullName(), List.of()).stream().map(SchemaHistory::load).toList();
    }

    private static Schema load(String file) {
        try (InputStream in = SchemaHistory.class.getResourceAsStream("/io/blockrep/schemas/history/" + file)) {
            if (in == null) {
                throw new IllegalStateException("schema history resource " + file + " is missing from the jar");
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
