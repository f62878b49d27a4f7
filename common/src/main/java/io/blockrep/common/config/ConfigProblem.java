package io.blockrep.common.config;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One problem of a configuration, split for machines ({@code blockrep config check --json}): the key
 * it is about (null when it concerns no single key), what is wrong, and a suggested key (the
 * did-you-mean of an unknown key; null when there is none). The validators report problems as text,
 * {@code "key: what is wrong"} (see {@link ConfigDef}); {@link #of(String)} splits that form.
 */
public record ConfigProblem(String key, String problem, String suggestion) {
    /** {@code key[ (from VAR)]: problem}, the key being a dotted name without blanks. */
    private static final Pattern KEYED = Pattern.compile("([A-Za-z0-9_.<>*-]+)( \\(from [A-Z0-9_]+\\))?: (.*)", Pattern.DOTALL);
    private static final Pattern DID_YOU_MEAN = Pattern.compile(".*\\(did you mean '([^']+)'\\?\\).*", Pattern.DOTALL);

    public ConfigProblem {
        Objects.requireNonNull(problem, "problem");
    }

    /** Splits a problem in the validators' text form. */
    public static ConfigProblem of(String text) {
        Matcher m = KEYED.matcher(text);
        String key = null;
        String problem = text;
        if (m.matches() && m.group(1).contains(".")) {
            key = m.group(1);
            problem = m.group(2) == null ? m.group(3) : m.group(2).trim() + ": " + m.group(3);
        }
        Matcher hint = DID_YOU_MEAN.matcher(problem);
        return new ConfigProblem(key, problem, hint.matches() ? hint.group(1) : null);
    }

    /** The text form, as {@link #of(String)} reads it. */
    public String text() {
        return key == null ? problem : key + ": " + problem;
    }
}
