package io.blockrep.producer.control;

import java.util.List;

/**
 * The control API's status document for one facility. {@code kafka} is DISABLED, REACHABLE or
 * UNREACHABLE; {@code kafkaBacklogRegions} counts dirty regions not yet acknowledged by Kafka.
 */
public record FacilityStatus(String node, long timeMillis, String link, String peer, String kafka, long kafkaBacklogRegions,
                             List<VolumeStatus> volumes) {
    public FacilityStatus {
        volumes = List.copyOf(volumes);
    }
}
