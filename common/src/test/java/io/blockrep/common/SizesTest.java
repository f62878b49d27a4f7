package io.blockrep.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SizesTest {
    @Test
    void parsesBinaryUnits() {
        assertThat(Sizes.parse("4096")).isEqualTo(4096);
        assertThat(Sizes.parse("64K")).isEqualTo(65536);
        assertThat(Sizes.parse("64k")).isEqualTo(65536);
        assertThat(Sizes.parse("1G")).isEqualTo(1L << 30);
        assertThat(Sizes.parse("512MiB")).isEqualTo(512L << 20);
        assertThat(Sizes.parse(" 2T ")).isEqualTo(2L << 40);
    }

    @Test
    void rejectsGarbageAndOverflowWithTheText() {
        assertThatThrownBy(() -> Sizes.parse("12X")).isInstanceOf(InvalidInputException.class).hasMessageContaining("'12X'");
        assertThatThrownBy(() -> Sizes.parse("-1")).isInstanceOf(InvalidInputException.class);
        assertThatThrownBy(() -> Sizes.parse("99999999P")).isInstanceOf(InvalidInputException.class).hasMessageContaining("too large");
    }

    @Test
    void formatsWithLargestExactUnit() {
        assertThat(Sizes.format(65536)).isEqualTo("64K");
        assertThat(Sizes.format(1L << 30)).isEqualTo("1G");
        assertThat(Sizes.format(1000)).isEqualTo("1000");
        assertThat(Sizes.human(3L << 29)).isEqualTo("1.5 GiB");
    }
}
