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
            out.add(digest(sha, buf));
        }
        return out;
    }

    /**
     * SHA-256 of {@code block} ({@code position} to {@code limit}, left untouched). A block of zeros (a
     * hole of a sparse file, or a region never written: what a copy onto a fresh replica asks about most)
     * is recognised with a vectorised compare and answered from a cache, instead of hashed byte by byte.
     */
    public static byte[] digest(MessageDigest sha, ByteBuffer block) {
        int length = block.remaining();
        if (length <= ZEROS.capacity() && block.mismatch(ZEROS.duplicate().limit(length)) == -1) {
            return ZERO_DIGESTS.computeIfAbsent(length, n -> {
                MessageDigest d = sha256();
                d.update(new byte[n]);
                return d.digest();
            }).clone();
        }
        sha.reset();
        sha.update(block.duplicate());
        return sha.digest();
    }

    /** True when {@code block} (position to limit) holds only zero bytes; vectorised. */
    public static boolean isZero(ByteBuffer block) {
        ByteBuffer b = block.duplicate();
        while (b.hasRemaining()) {
            int n = Math.min(b.remaining(), ZEROS.capacity());
            ByteBuffer part = b.slice().limit(n);
            if (part.mismatch(ZEROS.duplicate().limit(n)) != -1) {
                return false;
            }
            b.position(b.position() + n);
        }
        return true;
    }

    /** Blocks up to this size are checked for zeros; larger ones are hashed as they are. */
    private static final int ZERO_BLOCK = 1 << 20;
    /** Read-only zeros to compare against. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocate(ZERO_BLOCK).asReadOnlyBuffer();
    /** SHA-256 of n zero bytes, by n. */
    private static final java.util.Map<Integer, byte[]> ZERO_DIGESTS = new java.util.concurrent.ConcurrentHashMap<>();

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }
}
