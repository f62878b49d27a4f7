package io.blockrep.producer.link;

import static io.blockrep.producer.link.LinkFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.blockrep.common.BlockrepException;
import io.blockrep.common.config.HostPort;
import io.blockrep.common.link.LinkCertificates;
import io.blockrep.common.link.LinkClient;
import io.blockrep.common.link.LinkTls;
import io.blockrep.common.volume.Role;
import io.blockrep.common.volume.Volume;
import io.blockrep.testkit.tls.TestCertificates;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS on the replication link (issue #13, Deliver 2): a TLS link replicates; a certificate
 * from another authority, an expired one, a pinned fingerprint that does not match, a certificate
 * that does not name the node, and a plaintext client on the TLS port are all refused with nothing
 * applied. Certificates are made with keytool in a temp directory for this class.
 */
@Tag("slow")
class LinkSecurityIT {
    @TempDir
    static Path certs;
    static TestCertificates ca;
    static TestCertificates rogue;
    static Path siteA;
    static Path siteB;
    static Path siteAExpired;
    static Path siteAFromRogue;
    static Path siteX;

    @TempDir
    Path dir;
    LinkFixture secondarySide;
    LinkFixture primarySide;
    Volume replica;
    String before;
    LinkServer server;
    ReplicationLink link;
    final ReplicationLinkIT.Events events = new ReplicationLinkIT.Events();

    @BeforeAll
    static void makeCertificates() {
        ca = TestCertificates.authority(certs, "test-ca");
        rogue = TestCertificates.authority(certs, "rogue-ca");
        siteA = ca.leaf("site-a");
        siteB = ca.leaf("site-b");
        siteX = ca.leaf("site-x");
        siteAExpired = ca.expiredLeaf("site-a");
        siteAFromRogue = rogue.leaf("site-a");
    }

    @BeforeEach
    void start() {
        secondarySide = new LinkFixture(dir.resolve("b"));
        replica = secondarySide.volume("vol-1", Role.SECONDARY);
        primarySide = new LinkFixture(dir.resolve("a"));
        before = LinkFixture.sha256(replica.metadata().path());
    }

    @AfterEach
    void stop() throws Exception {
        LinkFixture.closeAll(link, server, secondarySide, primarySide);
    }

    private void serve(LinkTls.Settings tls) {
        server = LinkServer.start(LinkServerConfig.defaults("site-b", SECRET).withTls(LinkTls.of(tls)), secondarySide);
    }

    /** Heartbeats every 500 ms, 4 missed: a TLS handshake on a loaded two-core CI machine must not count as a dead peer. */
    private LinkConfig linkConfig(LinkTls.Settings tls) {
        return new LinkConfig("site-a", new HostPort("127.0.0.1", server.port()), SECRET, Duration.ofSeconds(5), Duration.ofMillis(500),
                4, Duration.ofSeconds(3), Duration.ofMillis(10), Duration.ofMillis(200), Duration.ofMillis(100), 64L << 20, "site-b")
                .withTls(tls == null ? null : LinkTls.of(tls));
    }

    private LinkClient client(String nodeId, LinkTls.Settings tls) {
        return new LinkClient(nodeId, new HostPort("127.0.0.1", server.port()), SECRET, List.of(LinkFixture.primaryInfo("vol-1")),
                Duration.ofSeconds(5), tls == null ? null : LinkTls.of(tls));
    }

    private static void sendOneSet(LinkClient client) {
        client.sendDataSet("vol-1", 1, List.of(new LinkClient.Extent(0, ByteBuffer.wrap(new byte[] {1, 2, 3, 4}))));
    }

    private void assertNothingApplied() {
        assertThat(LinkFixture.sha256(replica.metadata().path())).isEqualTo(before);
    }

    @Test
    void aTlsLinkReplicatesByteIdentically() throws Exception {
        serve(ca.settings(siteB));
        Volume source = primarySide.volume("vol-1", Role.PRIMARY);
        link = new ReplicationLink(linkConfig(ca.settings(siteA)), List.of(LinkFixture.primaryInfo("vol-1")), events);
        link.start();
        await().atMost(Duration.ofSeconds(15)).until(() -> !events.restored.isEmpty());
        LinkFixture.writeRandomly(source, link, "vol-1", 7, 100);
        assertThat(LinkFixture.sha256(replica.metadata().path())).isEqualTo(LinkFixture.sha256(source.metadata().path()));
        assertThat(events.down).isEmpty();
    }

    @Test
    void theReplayersClientWorksOverTlsWithAPinnedServerCertificate() {
        serve(ca.settings(siteB));
        LinkTls.Settings pinned = new LinkTls.Settings(siteA, TestCertificates.PASSWORD, "PKCS12", null, null, "PKCS12", true,
                List.of(LinkCertificates.fingerprint(siteB, TestCertificates.PASSWORD)), false);
        try (LinkClient client = client("site-a", pinned)) {
            sendOneSet(client);
        }
        assertThat(LinkFixture.sha256(replica.metadata().path())).isNotEqualTo(before);
    }

    @Test
    void aClientCertificateFromAnotherAuthorityIsRefused() {
        serve(ca.settings(siteB));
        try (LinkClient client = client("site-a", new LinkTls.Settings(siteAFromRogue, TestCertificates.PASSWORD, "PKCS12",
                ca.truststore(), TestCertificates.PASSWORD, "PKCS12", true, List.of(), false))) {
            assertThatThrownBy(() -> sendOneSet(client)).isInstanceOf(BlockrepException.class)
                    .hasMessageContaining("link to 127.0.0.1:" + server.port());
        }
        assertThat(server.connectedFrom("site-a")).isFalse();
        assertNothingApplied();
    }

    @Test
    void anExpiredClientCertificateKeepsTheReplicationLinkDown() {
        serve(ca.settings(siteB));
        link = new ReplicationLink(linkConfig(ca.settings(siteAExpired)), List.of(LinkFixture.primaryInfo("vol-1")), events);
        link.start();
        // The link retries every 10..200 ms: give it a second's worth of attempts, none may get in.
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> events.restored.isEmpty()
                && !server.connectedFrom("site-a"));
        assertThat(link.write("vol-1", 0, ByteBuffer.wrap(new byte[512]), false).toCompletableFuture())
                .isCompletedExceptionally();
        assertNothingApplied();
    }

    @Test
    void aServerCertificateTheClientDoesNotTrustIsRefused() {
        serve(rogue.settings(rogue.leaf("site-b")));
        try (LinkClient client = client("site-a", ca.settings(siteA))) {
            assertThatThrownBy(() -> sendOneSet(client)).isInstanceOf(BlockrepException.class)
                    .hasMessageContaining("PKIX");
        }
        assertNothingApplied();
    }

    @Test
    void aPinnedFingerprintThatDoesNotMatchIsRefused() {
        serve(ca.settings(siteB));
        LinkTls.Settings wrongPin = new LinkTls.Settings(siteA, TestCertificates.PASSWORD, "PKCS12", ca.truststore(),
                TestCertificates.PASSWORD, "PKCS12", true, List.of(LinkCertificates.fingerprint(siteX, TestCertificates.PASSWORD)),
                false);
        try (LinkClient client = client("site-a", wrongPin)) {
            assertThatThrownBy(() -> sendOneSet(client)).isInstanceOf(BlockrepException.class)
                    .hasMessageContaining("not one of the pinned");
        }
        assertNothingApplied();
    }

    @Test
    void aCertificateThatDoesNotNameTheAuthenticatedNodeIsRefusedWhenNodeIdsAreChecked() {
        LinkTls.Settings strict = new LinkTls.Settings(siteB, TestCertificates.PASSWORD, "PKCS12", ca.truststore(),
                TestCertificates.PASSWORD, "PKCS12", true, List.of(), true);
        serve(strict);
        // site-x holds a valid certificate of the same authority and the secret, but claims to be site-a.
        try (LinkClient client = client("site-a", ca.settings(siteX))) {
            assertThatThrownBy(() -> sendOneSet(client)).isInstanceOf(BlockrepException.class)
                    .hasMessageContaining("AUTH_FAILED");
        }
        assertNothingApplied();
        try (LinkClient client = client("site-a", ca.settings(siteA))) {
            sendOneSet(client);
        }
        assertThat(LinkFixture.sha256(replica.metadata().path())).isNotEqualTo(before);
    }

    @Test
    void aPlaintextClientOnTheTlsPortIsToldTlsIsRequired() {
        serve(ca.settings(siteB));
        try (LinkClient client = client("site-a", null)) {
            assertThatThrownBy(() -> sendOneSet(client)).isInstanceOf(BlockrepException.class)
                    .hasMessageContaining("requires TLS");
        }
        assertNothingApplied();
    }
}
