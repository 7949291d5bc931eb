"""The record model: one notification (`notification`), the NDJSON file format (`ndjson`),
the selection of records (`filters`) and where a value sits in a JSON document (`locate`)."""
