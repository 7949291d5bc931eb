"""Everything that talks to the message bus: transport URLs, TLS and masking (`url`,
`transport`)."""
