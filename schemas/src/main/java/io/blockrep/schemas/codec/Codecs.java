package io.blockrep.schemas.codec;

import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.VolumeEvent;

/** The codecs of blockrep's record types without a schema registry. */
public final class Codecs {
    public static final RecordCodec<DirtyRegion> DIRTY_REGION = new SingleObjectCodec<>(DirtyRegion.getClassSchema());
    public static final RecordCodec<EraClosed> ERA_CLOSED = new SingleObjectCodec<>(EraClosed.getClassSchema());
    public static final RecordCodec<VolumeEvent> VOLUME_EVENT = new SingleObjectCodec<>(VolumeEvent.getClassSchema());

    private Codecs() {
    }
}
