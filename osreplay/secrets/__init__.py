"""What never reaches disk: the redaction rules (`rules`), keyed pseudonyms (`pseudonym`)
and `osreplay redact` (`scrub`)."""
