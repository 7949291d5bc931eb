"""JSON Schemas shipped with osreplay (installed as the package ``osreplay.schemas``)."""
