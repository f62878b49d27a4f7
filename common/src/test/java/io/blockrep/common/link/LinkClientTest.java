package io.blockrep.common.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinkClientTest {
    @Test
    void extentFramesAreTheBytesOfTheDataSetExtentMessage() throws Exception {
        byte[] data = new byte[70_000];
        new Random(3).nextBytes(data);
        for (ByteBuffer payload : new ByteBuffer[] {ByteBuffer.wrap(data), ByteBuffer.wrap(data, 100, 65_536),
                ByteBuffer.allocate(0), ByteBuffer.allocateDirect(4096).put(data, 0, 4096).flip()}) {
            ByteBuffer before = payload.duplicate();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            LinkClient.writeExtent(out, 17, 0x1234_5678_9ABCL, 8192, payload);
            byte[] expected = new LinkMessage.DataSetExtent(0x1234_5678_9ABCL, 8192, payload).toFrame(17).encode();
            assertThat(out.toByteArray()).isEqualTo(expected);
            assertThat(payload).isEqualTo(before);
            assertThat(LinkMessage.decode(LinkFrame.decode(out.toByteArray())))
                    .isEqualTo(new LinkMessage.DataSetExtent(0x1234_5678_9ABCL, 8192, before));
        }
    }

    @Test
    void extentFramesAreCheckedLikeTheMessage() {
        assertThatThrownBy(() -> LinkClient.writeExtent(new ByteArrayOutputStream(), 1, -1, 0, ByteBuffer.allocate(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
