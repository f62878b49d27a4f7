package io.blockrep.replayer.status;

import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.VolumeEvent;
import io.blockrep.schemas.codec.Codecs;
import io.blockrep.schemas.codec.RecordCodec;
import java.util.Objects;

/** The decoders the status app reads the dirty and events topics with; {@link #defaults()} = single-object encoding. */
public record StatusCodecs(RecordCodec<DirtyRegion> dirtyRegion, RecordCodec<EraClosed> eraClosed, RecordCodec<VolumeEvent> volumeEvent) {
    public StatusCodecs {
        Objects.requireNonNull(dirtyRegion, "dirtyRegion");
        Objects.requireNonNull(eraClosed, "eraClosed");
        Objects.requireNonNull(volumeEvent, "volumeEvent");
    }

    /** The readers of {@code codecs} (both formats with a registry: {@link io.blockrep.schemas.registry.ValueCodecs#readers}). */
    public static StatusCodecs of(io.blockrep.schemas.registry.RegistryCodecs codecs) {
        return new StatusCodecs(codecs.dirtyRegion(), codecs.eraClosed(), codecs.volumeEvent());
    }

    public static StatusCodecs defaults() {
        return new StatusCodecs(Codecs.DIRTY_REGION, Codecs.ERA_CLOSED, Codecs.VOLUME_EVENT);
    }
}
