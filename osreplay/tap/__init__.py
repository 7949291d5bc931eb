"""`osreplay record`: tap queues, the single writer, duplicate checks and the recorder."""
