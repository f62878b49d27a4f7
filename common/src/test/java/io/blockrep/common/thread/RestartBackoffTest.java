package io.blockrep.common.thread;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RestartBackoffTest {
    @Test
    void doublesFromHalfASecondToAMinuteAndStartsAgainAfterAQuietSpell() {
        RestartBackoff b = new RestartBackoff();
        assertThat(b.failed(0)).isEqualTo(500);
        assertThat(b.failed(1_000)).isEqualTo(1_000);
        assertThat(b.failed(2_000)).isEqualTo(2_000);
        for (int i = 0; i < 20; i++) {
            b.failed(3_000 + i);
        }
        assertThat(b.failed(4_000)).isEqualTo(60_000);
        assertThat(b.failed(4_000 + RestartBackoff.RESET.toMillis() + 1)).isEqualTo(500);
        assertThat(b.attempt()).isEqualTo(1);
    }
}
