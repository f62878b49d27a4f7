package io.blockrep.schemas.registry;

import io.blockrep.common.FatalException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Builds the client's SSLContext from the settings' stores; without stores, the JVM default ({@code javax.net.ssl.*}). */
final class RegistryTls {
    private RegistryTls() {
    }

    static SSLContext context(SchemaRegistrySettings s) {
        if (s.trustStore() == null && s.keyStore() == null) {
            try {
                return SSLContext.getDefault();
            } catch (GeneralSecurityException e) {
                throw new FatalException("schema registry TLS: no default SSL context: " + e.getMessage(), e);
            }
        }
        try {
            KeyManagerFactory kmf = null;
            if (s.keyStore() != null) {
                KeyStore ks = load(s.keyStore(), "key store");
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, chars(s.keyStore().password()));
            }
            TrustManagerFactory tmf = null;
            if (s.trustStore() != null) {
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(load(s.trustStore(), "trust store"));
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new FatalException("schema registry TLS: " + e.getMessage(), e);
        }
    }

    private static KeyStore load(SchemaRegistrySettings.Store store, String what) {
        try (InputStream in = Files.newInputStream(store.path())) {
            KeyStore ks = KeyStore.getInstance(store.type());
            ks.load(in, chars(store.password()));
            return ks;
        } catch (IOException | GeneralSecurityException e) {
            throw new FatalException("schema registry " + what + " " + store.path() + " (" + store.type() + ") cannot be read: "
                    + e.getMessage(), e);
        }
    }

    private static char[] chars(String password) {
        return password == null ? null : password.toCharArray();
    }
}
