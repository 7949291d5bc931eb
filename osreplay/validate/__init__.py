"""`osreplay validate`, one module per concern.

- ``run.py``: the command, ``run(ValidateOptions, console) -> Summary``;
- ``scan.py``: the command's hot loop: a line that is a valid record is only counted;
- ``validator.py``: the Validator, what it checks a record against;
- ``verdicts.py``: what it finds, Problem/Verdict, and the Summary;
- ``compiler.py``: the fast yes/no check compiled from a shipped schema (its expressions
  in ``expressions.py``);
- ``schemas.py``: the shipped schemas (package data) and their jsonschema reference;
- ``user_schemas.py``: ``--schema GLOB=PATH``, checked up front, local references only;
- ``messages.py``: a jsonschema error as a JSON path and a short message.

Never imports ``bus/``, oslo, ``cli`` or ``console``.
"""
