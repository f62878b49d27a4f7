package io.blockrep.replayer.copy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class SetBuffersTest {
    @Test
    void aGivenBackBufferIsTakenAgainClearedAndLargerRequestsGetNewOnes() {
        SetBuffers buffers = new SetBuffers(2, 1_000);
        ByteBuffer first = buffers.take(500);
        assertThat(first.capacity()).as("at least the configured size").isEqualTo(1_000);
        first.position(700);
        buffers.give(first);

        ByteBuffer again = buffers.take(900);
        assertThat(again).isSameAs(first);
        assertThat(again.position()).isZero();
        assertThat(again.limit()).isEqualTo(1_000);

        buffers.give(again);
        ByteBuffer larger = buffers.take(5_000);
        assertThat(larger).isNotSameAs(first);
        assertThat(larger.capacity()).isEqualTo(5_000);
        assertThat(buffers.take(10)).as("the small one is still kept").isSameAs(first);
    }

    @Test
    void atMostKeepBuffersAreKeptAndWarmAllocatesThemAhead() {
        SetBuffers buffers = new SetBuffers(2, 100);
        buffers.warm();
        ByteBuffer a = buffers.take(100);
        ByteBuffer b = buffers.take(100);
        ByteBuffer c = buffers.take(100);
        assertThat(a).isNotSameAs(b);
        buffers.give(a);
        buffers.give(b);
        buffers.give(c);
        ByteBuffer x = buffers.take(100);
        ByteBuffer y = buffers.take(100);
        ByteBuffer z = buffers.take(100);
        // identity, not equals: ByteBuffer.equals compares contents, and all of these are zeros
        assertThat(x == a || x == b).isTrue();
        assertThat(y == a || y == b).isTrue();
        assertThat(z != a && z != b && z != c).as("the third was not kept").isTrue();
    }
}
