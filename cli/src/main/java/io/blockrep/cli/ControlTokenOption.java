package io.blockrep.cli;

import io.blockrep.common.config.ControlToken;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --token-file}: the control API token a verb sends (see the README's "Security" section). Without
 * it, the {@code BLOCKREP_CONTROL_TOKEN} environment variable holds the token itself; without either no
 * token is sent, which is what a facility on loopback with no token configured expects.
 */
final class ControlTokenOption {
    static final String ENV = "BLOCKREP_CONTROL_TOKEN";

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the control API token (the facility's producer.control.token.file, or its read token for"
                    + " status); default: the " + ENV + " environment variable, else none.")
    Path tokenFile;

    /** The token to send, or null for none. */
    String token() {
        return token(System.getenv());
    }

    String token(Map<String, String> env) {
        if (tokenFile != null) {
            return ControlToken.read("--token-file", tokenFile);
        }
        String value = env.get(ENV);
        return value == null || value.isBlank() ? null : value.strip();
    }
}
