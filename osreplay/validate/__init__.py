"""`osreplay validate`: the shipped schemas' fast check, schema loading and the validator."""
