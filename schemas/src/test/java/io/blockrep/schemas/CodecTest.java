package io.blockrep.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockrep.schemas.codec.Codecs;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CodecTest {
    @Test
    void dirtyKeysRoundTripAsReadableText() {
        DirtyKey k = DirtyKey.region("vol-1", "site-a", 7, 12345);
        assertThat(new String(k.bytes(), StandardCharsets.UTF_8)).isEqualTo("vol-1/site-a/7/12345");
        assertThat(DirtyKey.parse(k.bytes())).isEqualTo(k);
        DirtyKey closed = DirtyKey.eraClosed("vol-1", "site-a", 7);
        assertThat(closed.text()).isEqualTo("vol-1/site-a/7/closed");
        assertThat(DirtyKey.parse(closed.bytes()).isEraClosed()).isTrue();
    }

    @Test
    void poisonKeysAreRejectedClearly() {
        for (String bad : new String[] {"", "vol/site/x/1", "Vol/site/1/1", "vol/site/1", "vol/site/1/2/3", "vol/site/-1/2"}) {
            assertThatThrownBy(() -> DirtyKey.parse(bad.getBytes(StandardCharsets.UTF_8)))
                    .isInstanceOf(PoisonRecordException.class).hasMessageContaining("not a dirty key");
        }
        assertThatThrownBy(() -> DirtyKey.parse(null)).isInstanceOf(PoisonRecordException.class);
    }

    @Test
    void valuesRoundTripAndPoisonIsRejected() {
        DirtyRegion v = DirtyRegion.newBuilder().setFirstWriteMillis(1_700_000_000_000L).setRegionSize(65536)
                .setVolumeSize(1L << 30).setCause(DirtyCause.LOGGED_WRITE).build();
        byte[] bytes = Codecs.DIRTY_REGION.encode(v);
        assertThat(bytes[0] & 0xff).isEqualTo(0xC3);
        assertThat(bytes[1] & 0xff).isEqualTo(0x01);
        assertThat(Codecs.DIRTY_REGION.decode(bytes)).isEqualTo(v);

        VolumeEvent e = VolumeEvent.newBuilder().setVolume("v").setNode("site-a").setTimeMillis(1).setType(EventType.MODE_CHANGED)
                .setMode("LOGGING").setDetail(Map.of("reason", "ack timeout")).build();
        assertThat(Codecs.VOLUME_EVENT.decode(Codecs.VOLUME_EVENT.encode(e))).isEqualTo(e);

        assertThatThrownBy(() -> Codecs.DIRTY_REGION.decode(new byte[] {1, 2, 3})).isInstanceOf(PoisonRecordException.class);
        assertThatThrownBy(() -> Codecs.DIRTY_REGION.decode(Codecs.VOLUME_EVENT.encode(e))).isInstanceOf(PoisonRecordException.class);
        assertThatThrownBy(() -> Codecs.DIRTY_REGION.decode(null)).isInstanceOf(PoisonRecordException.class);
    }

    /** Found by SingleObjectCodecFuzzTest: 21 bytes declaring a string of about 2 GiB ran the JVM out of heap. */
    @Test
    void aValueDeclaringAHugeStringIsPoisonNotAnAllocation() {
        byte[] poison = java.util.Base64.getDecoder().decode("wwHp/5SaQ48Vz/7n//oOAAIAAAAA");
        for (var codec : java.util.List.of(Codecs.DIRTY_REGION, Codecs.ERA_CLOSED, Codecs.VOLUME_EVENT)) {
            assertThatThrownBy(() -> codec.decode(poison)).isInstanceOf(PoisonRecordException.class);
        }
        assertThatThrownBy(() -> Codecs.VOLUME_EVENT.decode(poison)).hasMessageContaining("exceeds maximum allowed");
    }
}
