package io.blockrep.common.link;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mutual shared-secret challenge-response. Each side sends AUTH_CHALLENGE(its node id, a fresh
 * 32-byte nonce); each proves itself with AUTH_RESPONSE(HMAC-SHA256(secret, label, nonce, prover
 * id, verifier id)) over the <em>other</em> side's nonce. The label and the prover-first order stop
 * a response being reflected back. The connecting side (client) proves first, so the server never
 * hands a MAC to an unauthenticated peer:
 *
 * <pre>
 * client -> AUTH_CHALLENGE(clientId, nC)
 * server -> AUTH_CHALLENGE(serverId, nS)
 * client -> AUTH_RESPONSE(mac(nS, clientId, serverId))   server checks; wrong -> ERROR AUTH_FAILED, close
 * server -> AUTH_RESPONSE(mac(nC, serverId, clientId))   client checks; wrong -> ERROR AUTH_FAILED, close
 * </pre>
 *
 * Stateless and thread-safe.
 */
public final class LinkAuth {
    public static final int NONCE_BYTES = 32;
    private static final byte[] LABEL = "blockrep-link-auth-v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private LinkAuth() {
    }

    public static byte[] newNonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    /** The proof {@code proverId} sends to {@code verifierId} for the verifier's {@code nonce}. */
    public static byte[] prove(SharedSecret secret, byte[] nonce, String proverId, String verifierId) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.key(), "HmacSHA256"));
            mac.update(LABEL);
            field(mac, nonce);
            field(mac, proverId.getBytes(StandardCharsets.UTF_8));
            field(mac, verifierId.getBytes(StandardCharsets.UTF_8));
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }

    /** Constant-time check of a proof. */
    public static boolean verify(SharedSecret secret, byte[] nonce, String proverId, String verifierId, byte[] proof) {
        return MessageDigest.isEqual(prove(secret, nonce, proverId, verifierId), proof);
    }

    private static void field(Mac mac, byte[] bytes) {
        mac.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
        mac.update(bytes);
    }
}
