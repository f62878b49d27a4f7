package io.blockrep.schemas.codec;

import io.blockrep.schemas.DirtyRegion;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.VolumeEvent;

/** The codecs of blockrep's record types without a schema registry. */
public final class Codecs {
    /** The system property Avro 1.12 reads to allow decoding into generated classes of a package. */
    public static final String TRUSTED_PACKAGES_PROPERTY = TrustedPackages.PROPERTY;

    static {
        trustSchemaPackage();
    }

    public static final RecordCodec<DirtyRegion> DIRTY_REGION = new SingleObjectCodec<>(DirtyRegion.getClassSchema());
    public static final RecordCodec<EraClosed> ERA_CLOSED = new SingleObjectCodec<>(EraClosed.getClassSchema());
    public static final RecordCodec<VolumeEvent> VOLUME_EVENT = new SingleObjectCodec<>(VolumeEvent.getClassSchema());

    private Codecs() {
    }

    /**
     * Adds this module's package to Avro's trusted packages unless the property is set already. Must
     * run before Avro's readers are first used (this class's initialisation does it).
     */
    public static void trustSchemaPackage() {
        TrustedPackages.trustSchemaPackage();
    }
}
