package io.blockrep.schemas.codec;

/**
 * Avro's own limits on what one value may declare, far below its defaults (about 2 GiB each): a
 * poison record of 21 bytes declaring a 2 GiB string made the decoder allocate it and run the JVM
 * out of heap (found by {@code SingleObjectCodecFuzzTest}). Our values hold ids, reasons and small
 * maps, so 1 MiB strings and byte arrays and 64 Ki items per map or array are generous. Avro reads
 * the properties once, when it first checks a limit, so every codec of ours calls {@link #apply()}
 * before its first decoding; a value the operator set (-D) is kept.
 */
public final class AvroLimits {
    static final String MAX_LENGTH = Integer.toString(1 << 20);
    static final String MAX_ITEMS = Integer.toString(1 << 16);

    static {
        for (String limit : new String[] {"org.apache.avro.limits.string.maxLength", "org.apache.avro.limits.bytes.maxLength"}) {
            if (System.getProperty(limit) == null) {
                System.setProperty(limit, MAX_LENGTH);
            }
        }
        if (System.getProperty("org.apache.avro.limits.collectionItems.maxLength") == null) {
            System.setProperty("org.apache.avro.limits.collectionItems.maxLength", MAX_ITEMS);
        }
    }

    private AvroLimits() {
    }

    /** Sets the limits (once per JVM: the class initialiser does the work) unless the operator set them. */
    public static void apply() {
        // the static initialiser has run by the time this body executes
    }
}
