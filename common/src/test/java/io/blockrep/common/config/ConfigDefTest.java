package io.blockrep.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.InvalidInputException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigDefTest {
    private final ConfigDef def = ConfigDef.builder()
            .required("svc.name", ConfigType.STRING, Validators.pattern("[a-z]+", "lower-case letters"), "name")
            .define("svc.timeout", ConfigType.DURATION, "10s", "timeout")
            .define("svc.port", ConfigType.INT, "80", Validators.range(1, 65535), "port")
            .required("svc.items", ConfigType.LIST, Validators.listOf("[a-z]+", "ids", true), "items")
            .perIdFrom("svc.items")
            .required("svc.item.<id>.size", ConfigType.SIZE, Validators.positiveSize(), "size")
            .passThrough("svc.kafka.")
            .build();

    @Test
    void parsesTypedValuesDefaultsAndPerIdKeys() {
        Config c = def.parse(Map.of("svc.name", "abc", "svc.items", "x, y", "svc.item.x.size", "64K",
                "svc.item.y.size", "1G", "svc.kafka.security.protocol", "SSL"), Map.of());
        assertThat(c.getDuration("svc.timeout")).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.getInt("svc.port")).isEqualTo(80);
        assertThat(c.ids()).containsExactly("x", "y");
        assertThat(c.getSize("svc.item.<id>.size", "y")).isEqualTo(1L << 30);
        assertThat(c.passThrough("svc.kafka.")).containsEntry("security.protocol", "SSL");
    }

    @Test
    void reportsEveryProblemAtOnce() {
        assertThatThrownBy(() -> def.parse(Map.of("svc.name", "ABC", "svc.port", "70000", "svc.timeout", "soon",
                "svc.items", "x", "svc.item.x.size", "lots", "svc.prot", "1"), Map.of()))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(78);
                    assertThat(e.problems()).hasSize(5);
                    assertThat(e.problems()).anyMatch(p -> p.startsWith("svc.name:"));
                    assertThat(e.problems()).anyMatch(p -> p.startsWith("svc.port:"));
                    assertThat(e.problems()).anyMatch(p -> p.startsWith("svc.timeout:"));
                    assertThat(e.problems()).anyMatch(p -> p.startsWith("svc.item.x.size:"));
                    assertThat(e.problems()).anyMatch(p -> p.contains("did you mean 'svc.port'"));
                });
    }

    @Test
    void environmentOverridesTheFile() {
        Config c = def.parse(Map.of("svc.name", "abc", "svc.items", "x", "svc.item.x.size", "4K"),
                Map.of("BLOCKREP_SVC_PORT", "8080", "BLOCKREP_SVC_ITEM_X_SIZE", "8K"));
        assertThat(c.getInt("svc.port")).isEqualTo(8080);
        assertThat(c.getSize("svc.item.<id>.size", "x")).isEqualTo(8192);
    }

    private final ConfigDef twoLists = ConfigDef.builder()
            .required("svc.nodes", ConfigType.LIST, Validators.listOf("[a-z]+", "node ids", true), "nodes")
            .required("svc.items", ConfigType.LIST, Validators.listOf("[a-z]+", "item ids", true), "items")
            .perIdFrom("svc.nodes")
            .required("svc.node.<id>.address", ConfigType.HOST_PORT, ConfigKey.Validator.ANY, "address")
            .perIdFrom("svc.items")
            .required("svc.item.<id>.size", ConfigType.SIZE, Validators.positiveSize(), "size")
            .define("svc.item.<id>.owner", ConfigType.STRING, "nobody", "owner")
            .build();

    @Test
    void eachPerIdKeyIsExpandedFromItsOwnIdList() {
        Config c = twoLists.parse(Map.of("svc.nodes", "a,b", "svc.items", "x",
                "svc.node.a.address", "h1:1", "svc.node.b.address", "h2:2", "svc.item.x.size", "4K"), Map.of());
        assertThat(c.ids("svc.nodes")).containsExactly("a", "b");
        assertThat(c.ids("svc.items")).containsExactly("x");
        assertThat(c.getHostPort("svc.node.<id>.address", "b")).isEqualTo(new HostPort("h2", 2));
        assertThat(c.getSize("svc.item.<id>.size", "x")).isEqualTo(4096);
        assertThat(c.getString("svc.item.<id>.owner", "x")).isEqualTo("nobody");
        assertThatThrownBy(c::ids).isInstanceOf(IllegalStateException.class).hasMessageContaining("several id lists");
        assertThatThrownBy(() -> c.get("svc.item.a.size")).as("a node id does not expand item keys")
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void problemsOfEveryIdListAreReportedAtOnce() {
        assertThatThrownBy(() -> twoLists.parse(Map.of("svc.nodes", "a,b", "svc.items", "x",
                "svc.node.a.address", "nowhere", "svc.item.x.size", "0", "svc.item.a.size", "4K", "svc.node.x.adress", "h:1"), Map.of()))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.problems()).satisfiesExactlyInAnyOrder(
                        p -> assertThat(p).startsWith("svc.node.a.address:"),
                        p -> assertThat(p).startsWith("svc.node.b.address: required"),
                        p -> assertThat(p).startsWith("svc.item.x.size:"),
                        p -> assertThat(p).startsWith("svc.item.a.size: unknown key"),
                        p -> assertThat(p).startsWith("svc.node.x.adress: unknown key")));
    }

    @Test
    void perIdKeysNeedAnIdListDefinedBefore() {
        assertThatThrownBy(() -> ConfigDef.builder().define("svc.item.<id>.size", ConfigType.SIZE, "1", "size"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("perIdFrom");
        assertThatThrownBy(() -> ConfigDef.builder().perIdFrom("svc.items"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("svc.items");
        assertThatThrownBy(() -> ConfigDef.builder().define("svc.port", ConfigType.INT, "1", "port").perIdFrom("svc.port"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("LIST");
    }

    @Test
    void durationsAcceptUnitsAndIso() {
        assertThat(ConfigType.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(ConfigType.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(ConfigType.parseDuration("PT2S")).isEqualTo(Duration.ofSeconds(2));
    }
}
