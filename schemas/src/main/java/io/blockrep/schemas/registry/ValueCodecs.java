package io.blockrep.schemas.registry;

import io.blockrep.schemas.topic.TopicLayout;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The value codecs of one service, for its writers and its readers. Without a registry both are the
 * single-object codecs at once. With one, the writers' codecs need the registry (register or look up
 * the schemas, set BACKWARD): {@link #writers()} asks it on every call until one succeeds and keeps
 * that answer, so a registry that is down at start only delays publishing (the bitmap is the outbox);
 * the readers' codecs ({@link #readers()}) need nothing up front and resolve each writer id when a
 * value first names it.
 *
 * <p>Thread-safe: concurrent first calls wait for one another, so one asks the registry at a time.
 */
public final class ValueCodecs {
    private static final Logger LOG = LoggerFactory.getLogger(ValueCodecs.class);

    private final Supplier<RegistryCodecs> connect;
    private final RegistryCodecs readers;
    private final String where;
    private volatile RegistryCodecs writers;

    private ValueCodecs(Supplier<RegistryCodecs> connect, RegistryCodecs readers, RegistryCodecs writers, String where) {
        this.connect = connect;
        this.readers = Objects.requireNonNull(readers, "readers");
        this.writers = writers;
        this.where = where;
    }

    /** Single-object encoding; readers also recognise (and reject as poison) Confluent values. */
    public static ValueCodecs withoutRegistry() {
        RegistryCodecs codecs = RegistryCodecs.withoutRegistry();
        return new ValueCodecs(() -> codecs, codecs, codecs, "no schema registry");
    }

    /** The codecs of the topics of {@code topics} through the registry of {@code setup}, or without one when it names none. */
    public static ValueCodecs of(RegistrySetup setup, TopicLayout topics) {
        if (!setup.enabled()) {
            return withoutRegistry();
        }
        return withRegistry(new SchemaRegistryClient(setup.settings().orElseThrow()), topics, setup.autoRegister());
    }

    public static ValueCodecs withRegistry(SchemaRegistryClient client, TopicLayout topics, boolean autoRegister) {
        return new ValueCodecs(() -> RegistryCodecs.withRegistry(client, topics.dirty(), topics.events(), autoRegister),
                RegistryCodecs.forReading(client), null, "schema registry at " + client.settings().url());
    }

    /**
     * The writers' codecs; with a registry, the first successful call registers or looks up the schemas.
     *
     * @throws SchemaRegistryUnavailableException the registry cannot be reached now (retriable: keep the records, call again later)
     * @throws SchemaRegistryException            the registry refused (a schema absent with auto-registration off, 409, 401): fatal
     */
    public RegistryCodecs writers() {
        RegistryCodecs w = writers;
        if (w != null) {
            return w;
        }
        synchronized (this) { // the dirty and the event publisher ask at once: one of them talks to the registry
            if (writers == null) {
                writers = connect.get();
            }
            return writers;
        }
    }

    /** The writers' codecs if they are ready, without asking the registry. */
    public Optional<RegistryCodecs> writersIfReady() {
        return Optional.ofNullable(writers);
    }

    /**
     * At start: asks the registry once. True when the writers' codecs are ready; false, with a WARN,
     * when the registry cannot be reached (writers retry later). A refusal is thrown: the service must
     * not start on a registry that says no.
     */
    public boolean tryConnect() {
        try {
            writers();
            return true;
        } catch (SchemaRegistryUnavailableException e) {
            LOG.warn("{} cannot be reached at start: values are published once it answers, until then they wait (dirty regions "
                    + "in the bitmaps, events in the buffer): {}", where, e.getMessage());
            return false;
        }
    }

    /** The readers' codecs: both formats, Confluent values resolved by id. */
    public RegistryCodecs readers() {
        return readers;
    }

    @Override
    public String toString() {
        return "ValueCodecs[" + where + "]";
    }
}
