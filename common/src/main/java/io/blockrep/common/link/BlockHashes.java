package io.blockrep.common.link;

import io.blockrep.common.volume.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * What HASH_REQUEST means: the SHA-256 of each {@code blockSize} block of a range, the last block
 * possibly short. Both sides compute it with this class so the digests compare. Stateless.
 */
public final class BlockHashes {
    private BlockHashes() {
    }

    /** Digests of {@code [offset, offset+length)} of {@code volume}; reads one block at a time. */
    public static List<byte[]> of(Volume volume, long offset, long length, int blockSize) throws IOException {
        volume.checkRange(offset, length);
        MessageDigest sha = sha256();
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(blockSize, Math.max(length, 1)));
        List<byte[]> out = new ArrayList<>();
        for (long done = 0; done < length; done += blockSize) {
            buf.clear().limit((int) Math.min(blockSize, length - done));
            volume.read(offset + done, buf);
            buf.flip();
            sha.update(buf);
            out.add(sha.digest());
        }
        return out;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
