package io.blockrep.common.link;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The zero shortcut of {@link BlockHashes#digest} answers exactly what hashing the bytes would. */
class BlockHashesTest {
    private static byte[] sha(byte[] b, int from, int length) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        d.update(b, from, length);
        return d.digest();
    }

    @Test
    void zeroBlocksOfAnySizeDigestAsTheirBytesDo() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (int n : new int[] {1, 512, 4095, 65536, 1 << 20, (1 << 20) + 1}) {
            byte[] zeros = new byte[n];
            assertThat(BlockHashes.digest(sha, ByteBuffer.wrap(zeros))).as("%d zero bytes", n).isEqualTo(sha(zeros, 0, n));
            assertThat(BlockHashes.isZero(ByteBuffer.wrap(zeros))).isTrue();
        }
    }

    @Test
    void oneNonZeroByteAnywhereIsHashedAndNotZero() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        Random random = new Random(3);
        for (int i = 0; i < 50; i++) {
            int n = 1 + random.nextInt(300_000);
            byte[] b = new byte[n + 16];
            b[8 + random.nextInt(n)] = (byte) (1 + random.nextInt(255));
            ByteBuffer block = ByteBuffer.wrap(b, 8, n);
            assertThat(BlockHashes.isZero(block)).isFalse();
            assertThat(BlockHashes.digest(sha, block)).isEqualTo(sha(b, 8, n));
            assertThat(block.position()).as("left untouched").isEqualTo(8);
        }
    }
}
