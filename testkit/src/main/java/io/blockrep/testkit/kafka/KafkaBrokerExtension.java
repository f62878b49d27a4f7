package io.blockrep.testkit.kafka;

import java.lang.reflect.InvocationTargetException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives a test class one {@link KafkaBroker}: inject it into any test, lifecycle or constructor
 * parameter. The broker starts on first use, is shared by all tests of the class (and its
 * {@code @Nested} classes), and is closed when the class is done, its data deleted.
 *
 * <pre>{@code
 * @ExtendWith(KafkaBrokerExtension.class)
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
 * Docker; {@code testcontainers} runs Kafka in Docker and needs {@code org.testcontainers:kafka}
 * on the test classpath. The container flavour cannot restart ({@link KafkaBroker#supportsRestart()}).
 */
public final class KafkaBrokerExtension implements ParameterResolver {
    public static final String FLAVOUR_PROPERTY = "blockrep.test.kafka";
    private static final Namespace NAMESPACE = Namespace.create(KafkaBrokerExtension.class);
    private static final String CONTAINER_CLASS = "io.blockrep.testkit.kafka.ContainerKafkaBroker";

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KafkaBroker.class;
    }

    @Override
    public KafkaBroker resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return classContext(context).getStore(NAMESPACE)
                .getOrComputeIfAbsent(KafkaBroker.class, key -> create(), AbstractKafkaBroker.class);
    }

    /** The nearest enclosing class-level context: brokers live as long as their test class. */
    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
            c = c.getParent().get();
        }
        return c;
    }

    private static AbstractKafkaBroker create() {
        String flavour = System.getProperty(FLAVOUR_PROPERTY, "embedded");
        try {
            switch (flavour) {
                case "embedded":
                    return new EmbeddedKafkaBroker();
                case "testcontainers":
                    return (AbstractKafkaBroker) Class.forName(CONTAINER_CLASS).getDeclaredConstructor().newInstance();
                default:
                    throw new ParameterResolutionException(
                            FLAVOUR_PROPERTY + "=" + flavour + " is unknown; use embedded or testcontainers");
            }
        } catch (NoClassDefFoundError e) {
            throw new ParameterResolutionException(
                    FLAVOUR_PROPERTY + "=testcontainers needs org.testcontainers:kafka on the test classpath", e);
        } catch (InvocationTargetException e) {
            throw new ParameterResolutionException("cannot start " + flavour + " Kafka: " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException | java.io.IOException e) {
            throw new ParameterResolutionException("cannot start " + flavour + " Kafka: " + e, e);
        }
    }
}
