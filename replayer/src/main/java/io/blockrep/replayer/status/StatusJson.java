package io.blockrep.replayer.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The JSON form of a {@link VolumeStatus}, as the status topic, the Streams store and the HTTP query
 * hold it (UTF-8, unknown fields ignored so that a newer writer's values stay readable). Thread-safe.
 */
public final class StatusJson {
    static final ObjectMapper MAPPER = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private StatusJson() {
    }

    public static byte[] write(VolumeStatus status) {
        try {
            return MAPPER.writeValueAsBytes(status);
        } catch (JsonProcessingException e) {
            throw new SerializationException("cannot write the status of " + status.volume + ": " + e.getMessage(), e);
        }
    }

    /** Parses a status value; throws {@link SerializationException} for bytes that are not one. */
    public static VolumeStatus read(byte[] bytes) {
        try {
            return MAPPER.readValue(bytes, VolumeStatus.class);
        } catch (IOException e) {
            throw new SerializationException("not a status value: " + e.getMessage(), e);
        }
    }

    static Serde<VolumeStatus> serde() {
        Serializer<VolumeStatus> ser = (topic, s) -> s == null ? null : write(s);
        Deserializer<VolumeStatus> de = (topic, b) -> b == null ? null : read(b);
        return Serdes.serdeFrom(ser, de);
    }
}
