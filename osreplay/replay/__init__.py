"""`osreplay replay`: `run` (the command), `sources` (files checked whole, standard input,
selection), `pacing` (the schedule, injectable clock), `replayer` (sending and where it
stopped), `sender` (oslo Notifiers or nothing), `context` (the request context rebuilt),
`rewrite` (fresh ids, retime, --set)."""
