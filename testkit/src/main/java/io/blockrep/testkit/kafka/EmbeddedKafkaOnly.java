package io.blockrep.testkit.kafka;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a test class whose {@link KafkaBroker} must be the embedded one whatever the flavour
 * ({@code -Pdocker} sets {@value KafkaBrokerExtension#FLAVOUR_PROPERTY}{@code =testcontainers}):
 * the class stops and starts the broker, which a container cannot do on the same address. Under
 * {@code -Pdocker} such a class still runs, and passes or fails, against the embedded broker; the
 * extension logs that it did and why. It is never skipped.
 *
 * <p>Applies to the class it is on and to its {@code @Nested} classes.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface EmbeddedKafkaOnly {
    /** Why the test cannot run against a container, e.g. "stops and starts the broker". */
    String value();
}
