"""`osreplay replay`: sources, pacing, identity rewriting and the replayer."""
