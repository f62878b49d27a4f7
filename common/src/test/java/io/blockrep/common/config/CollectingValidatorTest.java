package io.blockrep.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ConfigDef#check}: every problem of a file at once, each splittable into key, problem and suggestion. */
class CollectingValidatorTest {
    private static final ConfigDef DEF = ConfigDef.builder()
            .required("svc.name", ConfigType.STRING, Validators.pattern("[a-z]+", "lower-case letters"), "name")
            .define("svc.port", ConfigType.INT, "80", Validators.range(1, 65535), "port")
            .define("svc.timeout", ConfigType.DURATION, "10s", "timeout")
            .required("svc.volumes", ConfigType.LIST, Validators.listOf("[a-z0-9-]+", "ids", true), "volumes")
            .perIdFrom("svc.volumes")
            .required("svc.volume.<id>.size", ConfigType.SIZE, Validators.positiveSize(), "size")
            .build();

    /** Five distinct problems: unknown key, bad type, out of range, missing required, key of an unlisted volume. */
    private static final Map<String, String> FIVE = Map.of(
            "svc.name", "ok",
            "svc.prot", "8080",
            "svc.timeout", "soon",
            "svc.port", "70000",
            "svc.volumes", "demo,data",
            "svc.volume.demo.size", "1G",
            "svc.volume.dmeo.size", "1G");

    @Test
    void aFileWithFiveDistinctProblemsReportsAllFive() {
        ConfigDef.Checked checked = DEF.check(FIVE, Map.of(), c -> List.of());
        List<ConfigProblem> problems = checked.problems().stream().map(ConfigProblem::of).toList();
        assertThat(problems).extracting(ConfigProblem::key).containsExactlyInAnyOrder(
                "svc.prot", "svc.timeout", "svc.port", "svc.volume.data.size", "svc.volume.dmeo.size");
        assertThat(problems).filteredOn(p -> p.key().equals("svc.prot")).singleElement()
                .satisfies(p -> assertThat(p.suggestion()).isEqualTo("svc.port"));
        assertThat(problems).filteredOn(p -> p.key().equals("svc.timeout")).singleElement()
                .satisfies(p -> assertThat(p.problem()).contains("not a duration"));
        assertThat(problems).filteredOn(p -> p.key().equals("svc.port")).singleElement()
                .satisfies(p -> assertThat(p.problem()).isEqualTo("70000 is outside 1..65535"));
        assertThat(problems).filteredOn(p -> p.key().equals("svc.volume.data.size")).singleElement()
                .satisfies(p -> assertThat(p.problem()).startsWith("required"));
        assertThat(problems).filteredOn(p -> p.key().equals("svc.volume.dmeo.size")).singleElement().satisfies(p -> {
            assertThat(p.problem()).startsWith("unknown key: 'dmeo' is not listed in svc.volumes [demo, data]");
            assertThat(p.suggestion()).isEqualTo("svc.volume.demo.size");
        });
        assertThat(checked.config().isSet("svc.name")).as("values that parsed are kept").isTrue();
    }

    @Test
    void parseThrowsTheSameProblemsCheckReturns() {
        List<String> problems = DEF.check(FIVE, Map.of(), c -> List.of("svc.cross: a rule of several keys")).problems();
        assertThat(problems).hasSize(6);
        assertThatThrownBy(() -> DEF.parse(FIVE, Map.of(), c -> List.of("svc.cross: a rule of several keys")))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems()).isEqualTo(problems));
    }

    @Test
    void environmentOverridesAreCheckedLikeTheFile() {
        Map<String, String> clean = Map.of("svc.name", "ok", "svc.volumes", "demo", "svc.volume.demo.size", "1G");
        assertThat(DEF.check(clean, Map.of(), c -> List.of()).problems()).isEmpty();
        assertThat(DEF.check(clean, Map.of("BLOCKREP_SVC_PORT", "0"), c -> List.of()).problems())
                .containsExactly("svc.port: 0 is outside 1..65535");
    }

    @Test
    void problemTextSplitsIntoKeyProblemAndSuggestion() {
        assertThat(ConfigProblem.of("svc.prot: unknown key (did you mean 'svc.port'?)"))
                .isEqualTo(new ConfigProblem("svc.prot", "unknown key (did you mean 'svc.port'?)", "svc.port"));
        assertThat(ConfigProblem.of("producer.kafka.acks (from BLOCKREP_PRODUCER_KAFKA_ACKS): bad value"))
                .satisfies(p -> {
                    assertThat(p.key()).isEqualTo("producer.kafka.acks");
                    assertThat(p.problem()).contains("BLOCKREP_PRODUCER_KAFKA_ACKS").contains("bad value");
                });
        ConfigProblem free = ConfigProblem.of("something without a key: here");
        assertThat(free.key()).isNull();
        assertThat(free.text()).isEqualTo("something without a key: here");
        assertThat(free.suggestion()).isNull();
    }
}
