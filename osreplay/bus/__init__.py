"""Everything that talks to the message bus: transport URLs, TLS and masking (`url`,
`transport`), queue admin (`queues`), reconnect notices from oslo's log (`reconnect`), and
the confirming notifier drivers replay publishes through (`driver`)."""
