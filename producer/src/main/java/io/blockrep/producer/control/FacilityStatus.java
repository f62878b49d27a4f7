package io.blockrep.producer.control;

import java.util.List;

/** The control API's status document for one facility. */
public record FacilityStatus(String node, long timeMillis, String link, String peer, String kafka, List<VolumeStatus> volumes) {
    public FacilityStatus {
        volumes = List.copyOf(volumes);
    }
}
