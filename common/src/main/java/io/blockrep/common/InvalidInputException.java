package io.blockrep.common;

import java.util.List;

/**
 * Bad input from a user: a malformed size, an unknown volume, an invalid configuration.
 * Carries every problem found, not just the first. Exit code 64 (EX_USAGE) for arguments,
 * 78 (EX_CONFIG) for configuration files.
 */
public class InvalidInputException extends BlockrepException {
    private final List<String> problems;
    private final int exitCode;

    public InvalidInputException(String problem) {
        this(List.of(problem), 64);
    }

    public InvalidInputException(List<String> problems, int exitCode) {
        super(String.join("; ", problems));
        this.problems = List.copyOf(problems);
        this.exitCode = exitCode;
    }

    public static InvalidInputException config(List<String> problems) {
        return new InvalidInputException(problems, 78);
    }

    public List<String> problems() {
        return problems;
    }

    @Override
    public int exitCode() {
        return exitCode;
    }
}
