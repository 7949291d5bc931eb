"""`osreplay record`: `run` (the command), `options` (what it is asked, what it reports),
`recorder` (the listeners), `entry` (one message, one line), `sink` (the single writer and
dedup window), `pool` (pool planning and the tap queues)."""
