package io.blockrep.replayer.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.common.RetriableException;
import io.blockrep.schemas.DirtyKey;
import io.blockrep.schemas.EraClosed;
import io.blockrep.schemas.codec.Codecs;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class MirrorCatchupTest {
    private final AtomicLong now = new AtomicLong();
    private final MirrorCatchup catchup = new MirrorCatchup(Duration.ofSeconds(30), now::get,
            () -> "site-a.heartbeats: newest heartbeat 95 s old");
    private final DirtySetIndex index = new DirtySetIndex();

    private void marker(long era) {
        index.apply(new ConsumerRecord<>("site-a.blockrep.dirty", 0, era, DirtyKey.eraClosed("vol", "site-a", era).bytes(),
                Codecs.ERA_CLOSED.encode(new EraClosed(1L, 0L))));
    }

    @Test
    void waitsUpToTheTimeoutThenFailsRetriablyWithTheMirrorLag() {
        assertThat(catchup.check(index, "vol", "site-a", List.of(4L))).containsExactly(4L);
        now.addAndGet(Duration.ofSeconds(30).toNanos());
        assertThat(catchup.check(index, "vol", "site-a", List.of(4L))).containsExactly(4L);
        now.addAndGet(1);
        assertThatThrownBy(() -> catchup.check(index, "vol", "site-a", List.of(4L)))
                .isInstanceOf(RetriableException.class)
                .hasMessageContaining("era(s) [4]")
                .hasMessageContaining("replayer.mirror.catchup.timeout")
                .hasMessageContaining("newest heartbeat 95 s old");
    }

    @Test
    void aMarkerThatArrivesRestartsTheClock() {
        catchup.check(index, "vol", "site-a", List.of(4L));
        now.addAndGet(Duration.ofSeconds(29).toNanos());
        marker(4);
        assertThat(catchup.check(index, "vol", "site-a", List.of(4L))).isEmpty();
        now.addAndGet(Duration.ofSeconds(29).toNanos());
        assertThat(catchup.check(index, "vol", "site-a", List.of(4L, 5L))).containsExactly(5L);
        now.addAndGet(Duration.ofSeconds(29).toNanos());
        assertThat(catchup.check(index, "vol", "site-a", List.of(4L, 5L))).containsExactly(5L);
    }
}
