package io.blockrep.schemas.codec;

/**
 * Avro 1.12 decodes into generated classes only from trusted packages. Apart from {@link Codecs} so
 * that a command line can trust this module's package first thing without loading Avro and parsing
 * every schema (which {@link Codecs}' initialisation does) before it even parses its arguments.
 */
public final class TrustedPackages {
    public static final String PROPERTY = "org.apache.avro.SERIALIZABLE_PACKAGES";

    private TrustedPackages() {
    }

    /** Adds this module's package to Avro's trusted packages unless the property is set already. */
    public static void trustSchemaPackage() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, "io.blockrep.schemas");
        }
    }
}
