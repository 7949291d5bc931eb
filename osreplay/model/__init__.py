"""The record model shared by every command: one notification (`notification`), the NDJSON
file format (`ndjson`) and its repair before appending (`repair`), how a file that cannot
be read or written is told (`files`), the selection of records (`filters`) and where a
value sits in a JSON document (`locate`)."""
