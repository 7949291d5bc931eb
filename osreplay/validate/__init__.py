"""`osreplay validate`, one module per concern.

- ``run.py``: the command, ``run(ValidateOptions, console) -> Summary``;
- ``validator.py``: the Validator, what it checks a record against, Problem/Verdict/Summary;
- ``compiler.py``: the fast yes/no check compiled from a shipped schema;
- ``schemas.py``: the shipped schemas (package data) and their jsonschema reference;
- ``user_schemas.py``: ``--schema GLOB=PATH``, checked up front, local references only;
- ``messages.py``: a jsonschema error as a JSON path and a short message.

Never imports ``bus/``, oslo, ``cli`` or ``console``.
"""
