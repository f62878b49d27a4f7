package io.blockrep.testkit.kafka;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives a test class one {@link KafkaBroker}: inject it into any test, lifecycle or constructor
 * parameter. The broker starts on first use, is shared by all tests of the class (and its
 * {@code @Nested} classes), and is closed when the class is done, its data deleted.
 *
 * <pre>{@code
 * @ExtendWith(KafkaBrokerExtension.class)
 * @EmbeddedKafkaOnly("stops and starts the broker")
 * class DirtyPublisherIT {
 *     @BeforeAll
 *     static void topics(KafkaBroker kafka) {
 *         kafka.createTopic("blockrep.dirty", 1, Map.of("cleanup.policy", "compact"));
 *     }
 *
 *     @Test
 *     void survivesBrokerRestart(KafkaBroker kafka) {
 *         kafka.stop();
 *         kafka.start(); // same bootstrapServers(), same data
 *     }
 * }
 * }</pre>
 *
 * <p>Flavour, by the system property {@value #FLAVOUR_PROPERTY}: {@code embedded} (default) runs
 * {@link io.blockrep.kafka.EmbeddedKafka} in this JVM on free loopback ports and never touches
 * Docker; {@code testcontainers} (what {@code mvn -Pdocker} sets) runs Kafka in Docker and needs
 * {@code org.testcontainers:kafka} on the test classpath (the profile adds it) and a Docker engine:
 * without one the first resolution fails with {@link DockerEngine#MISSING}, never a skip. The
 * container flavour cannot restart ({@link KafkaBroker#supportsRestart()}), so a class that stops
 * the broker is annotated {@link EmbeddedKafkaOnly} and gets the embedded broker in every flavour.
 */
public final class KafkaBrokerExtension implements ParameterResolver {
    public static final String FLAVOUR_PROPERTY = "blockrep.test.kafka";
    private static final Logger log = LoggerFactory.getLogger(KafkaBrokerExtension.class);
    private static final Namespace NAMESPACE = Namespace.create(KafkaBrokerExtension.class);
    private static final String CONTAINER_CLASS = "io.blockrep.testkit.kafka.ContainerKafkaBroker";

    /** The two ways to run the broker. */
    enum Flavour {
        EMBEDDED, TESTCONTAINERS;

        /** The flavour named by {@value #FLAVOUR_PROPERTY}; empty or absent means embedded. */
        static Flavour named(String value) {
            if (value == null || value.isBlank() || value.equals("embedded")) {
                return EMBEDDED;
            }
            if (value.equals("testcontainers")) {
                return TESTCONTAINERS;
            }
            throw new ParameterResolutionException(
                    FLAVOUR_PROPERTY + "=" + value + " is unknown; use embedded or testcontainers");
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KafkaBroker.class;
    }

    @Override
    public KafkaBroker resolveParameter(ParameterContext parameter, ExtensionContext context) {
        ExtensionContext classContext = classContext(context);
        Class<?> testClass = classContext.getRequiredTestClass();
        return classContext.getStore(NAMESPACE).getOrComputeIfAbsent(KafkaBroker.class,
                key -> create(testClass, System.getProperty(FLAVOUR_PROPERTY), DockerEngine::locate),
                AbstractKafkaBroker.class);
    }

    /** The nearest enclosing class-level context: brokers live as long as their test class. */
    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
            c = c.getParent().get();
        }
        return c;
    }

    /**
     * The flavour {@code testClass} runs with when {@value #FLAVOUR_PROPERTY} is {@code property}:
     * embedded for an {@link EmbeddedKafkaOnly} class (or one nested in it), else as named.
     */
    static Flavour flavourFor(Class<?> testClass, String property) {
        Flavour named = Flavour.named(property);
        Optional<EmbeddedKafkaOnly> only = embeddedOnly(testClass);
        if (named == Flavour.TESTCONTAINERS && only.isPresent()) {
            log.info("{} uses the embedded broker, not {}=testcontainers: it {}",
                    testClass.getName(), FLAVOUR_PROPERTY, only.get().value());
            return Flavour.EMBEDDED;
        }
        return named;
    }

    static Optional<EmbeddedKafkaOnly> embeddedOnly(Class<?> testClass) {
        for (Class<?> c = testClass; c != null; c = c.getEnclosingClass()) {
            EmbeddedKafkaOnly only = c.getAnnotation(EmbeddedKafkaOnly.class);
            if (only != null) {
                return Optional.of(only);
            }
        }
        return Optional.empty();
    }

    static AbstractKafkaBroker create(Class<?> testClass, String property, Supplier<Optional<String>> docker) {
        Flavour flavour = flavourFor(testClass, property);
        try {
            if (flavour == Flavour.EMBEDDED) {
                return new EmbeddedKafkaBroker();
            }
            String engine = docker.get().orElseThrow(() -> new ParameterResolutionException(DockerEngine.MISSING));
            log.info("{}: Kafka in a container through the Docker engine at {}", testClass.getName(), engine);
            return (AbstractKafkaBroker) Class.forName(CONTAINER_CLASS).getDeclaredConstructor().newInstance();
        } catch (NoClassDefFoundError | ClassNotFoundException e) {
            throw new ParameterResolutionException(
                    FLAVOUR_PROPERTY + "=testcontainers needs org.testcontainers:kafka on the test classpath (mvn -Pdocker adds it)", e);
        } catch (InvocationTargetException e) {
            throw new ParameterResolutionException("cannot start " + flavour + " Kafka: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException | IOException e) {
            throw new ParameterResolutionException("cannot start " + flavour + " Kafka: " + e, e);
        }
    }
}
