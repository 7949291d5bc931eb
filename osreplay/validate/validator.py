"""Schema selection and validation results. Never prints; osreplay.console.validate does.

Public API (what :func:`osreplay.validate.run.run` wires together)::

    validator = Validator(extra_schemas=[("identity.*", "my.json")], strict=False)
    summary = Summary()
    for verdict in validator.validate_file(path):      # streams, one per non-blank line
        summary.add(verdict)
        console.verdict(verdict)                         # see osreplay.console.validate
    exit_code = 0 if summary.ok(strict=strict) else 1

- ``Validator(*, extra_schemas=(), strict=False)``: built once; loads the shipped schemas
  from the package ``osreplay.schemas``. ``extra_schemas`` are ``(EVENT_TYPE_GLOB, PATH)``
  pairs (see :func:`parse_schema_option` for ``GLOB=PATH`` text); a user schema that
  matches a record's ``event_type`` (fnmatch) is applied to its payload in addition to the
  built-in one. ``strict=True`` adds a problem line to records without a payload schema.
  Raises ``InputError`` (file unreadable) or ``UsageError`` (not a JSON Schema).
- ``Validator.validate_file(path) -> Iterator[Verdict]``: ``-`` is stdin, ``.gz`` is read
  transparently, a ``.json`` file is one pretty-printed record; raises ``InputError``
  when the file cannot be opened or read.
- ``Validator.validate_object(obj, *, path="-", lineno=0) -> Verdict`` for one record;
  ``Validator.validate_against(schema_name, instance) -> [(json_path, message)]``.
- ``Verdict(path, lineno, event_type, status, schemas, problems)``; ``status`` is one of
  ``VALID``, ``INVALID``, ``NO_SCHEMA``, ``UNREADABLE``.
- ``Problem(path, lineno, event_type, json_path, message)``; ``json_path`` is like
  ``$.payload.reason.reasonCode``, or None for an unreadable line.
- ``Summary`` counts records, valid, invalid, no_schema, unreadable; ``ok(strict=False)``.

How a record is checked: a bare CADF event (no ``event_type``, a ``typeURI`` under
``http://schemas.dmtf.org/cloud/audit/``) against ``cadf-event``. Anything else is
normalised (oslo v1/v2 wire bodies unwrapped, priority uppercased) and checked against
``envelope``; its payload against ``cadf-event`` (a ``typeURI`` under the CADF URI: one
that is not the event's own is a problem there), or the schema of its nova or ironic
object's name and version (``nova_object.name``, ``ironic_object.name``; see
osreplay.validate.objects: nested objects against theirs, and only the wrapper,
``nova-versioned``, when no version fits: ``NO_SCHEMA`` with a Note); plus
``keystone-basic`` (``resource_info`` in an ``identity.*`` event, a CADF one too) and
matching user schemas. A payload none of them covers is ``NO_SCHEMA``. ``Verdict.schemas``
names what was used (``nova:InstanceCreatePayload@1.13``); ``Validator.notes`` gathers
the Notes of the run.

Speed: lines are parsed with orjson (the stdlib parser words the reason for a bad line)
and each shipped schema is compiled once by :func:`compile_check`
(osreplay.validate.compiler) into a plain yes/no Python function. Only when the fast
check says no does jsonschema, the reference, run to produce the messages; if jsonschema
accepts the instance after all, it is valid. tests/unit/test_validate.py and tests/fuzz/
check that both agree over the corpus, the fixtures, mutations of them and generated
schemas. User schemas (``--schema``) go through jsonschema alone. The command itself
reads files through osreplay.validate.scan, which counts a line the fast checks accept
(:meth:`Validator.fast_schema`) without building a Verdict, and hands every other line
to :meth:`Validator.line_verdict`.

User schemas: osreplay.validate.user_schemas checks each when the run starts (its
dialect's metaschema, every ``$ref``/``$dynamicRef`` resolved, nesting depth) and raises
UsageError naming the file otherwise. References resolve inside the schema and to local
files; validate never reaches the network.

Lines longer than ``max_line_bytes`` (``Validator(max_line_bytes=…)``, 32 MiB by default)
are unreadable and never held whole (see osreplay.model.ndjson).
"""

from __future__ import annotations

import fnmatch
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from osreplay.model.ndjson import (
    DEFAULT_MAX_LINE_BYTES,
    is_document,
    iter_lines,
    open_binary,
    parse_line,
    read_document,
)
from osreplay.model.notification import (
    OPTIONAL,
    PRIORITIES,
    REQUIRED,
    RecordError,
    is_bare_cadf,
    normalise,
    unreadable_reason,
)
from osreplay.validate.compiler import compile_check
from osreplay.validate.messages import error_message, json_path
from osreplay.validate.objects import ObjectFamily, ObjectSchema
from osreplay.validate.schemas import (
    BUILTIN_SCHEMAS,
    Found,
    Schema,
    compile_builtin,
    inline_refs,
    load_builtin_schema,
    schema_files,
)
from osreplay.validate.verdicts import (
    INVALID,
    NO_SCHEMA,
    UNREADABLE,
    VALID,
    Notes,
    Problem,
    Summary,
    Verdict,
    unreadable,
)

#: Every CADF type URI starts so: a payload whose ``typeURI`` does is checked as a CADF
#: event, and one that is not the event's own URI is a problem there.
CADF_TYPEURI_PREFIX = "http://schemas.dmtf.org/cloud/audit/"

_RECORD_KEYS = frozenset(REQUIRED + OPTIONAL)
_PRIORITY_SET = frozenset(PRIORITIES)

# Enough to fix a record; a record with more is broken in a way a list will not explain.
MAX_PROBLEMS_PER_RECORD = 20


class Validator:
    """Validates recordings line by line; build once, then call validate_file per file."""

    def __init__(
        self,
        *,
        extra_schemas: Iterable[tuple[str, str]] | Mapping[str, str] = (),
        strict: bool = False,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        self.strict = strict
        self.max_line_bytes = max_line_bytes
        self._builtin = {
            name: compile_builtin(name, load_builtin_schema(name)) for name in BUILTIN_SCHEMAS
        }
        pairs: Sequence[tuple[str, str]] = (
            list(extra_schemas.items())
            if isinstance(extra_schemas, Mapping)
            else list(extra_schemas)
        )
        self._user: list[tuple[str, Schema]] = []
        if pairs:  # imported only then: most runs have no --schema
            from osreplay.validate.user_schemas import compile_user_schema

            self._user = [(glob, compile_user_schema(path)) for glob, path in pairs]
        self._envelope = self._builtin["envelope"]
        self._cadf = self._builtin["cadf-event"]
        self._keystone = self._builtin["keystone-basic"]
        self._envelope_check: Callable[[Any], bool] = self._envelope.check  # type: ignore[assignment]
        #: How object versions were checked when not against their own schema.
        self.notes = Notes()
        files = schema_files()
        self._families = {
            f"{family}_object.name": ObjectFamily(
                family, files, wrapper=self._builtin[f"{family}-versioned"], notes=self.notes
            )
            for family in ("nova", "ironic")
        }
        #: What :meth:`fast_schema` returns for "no payload schema".
        self.no_payload_schema: tuple[str, ...] = ("envelope",)
        #: Whether no compiled check tells two numbers of one type apart (see
        #: validate.scan): the generated nova and ironic schemas test integers.
        self.number_blind = False
        self._used = {name: ("envelope", name) for name in BUILTIN_SCHEMAS}
        self._used_cadf_keystone = ("envelope", "cadf-event", "keystone-basic")
        self._used_objects: dict[str, tuple[str, ...]] = {}

    # -- files ---------------------------------------------------------------------------

    def validate_file(self, path: str) -> Iterator[Verdict]:
        """One Verdict per non-blank line of ``path``, streaming (memory stays flat).

        ``-`` is stdin, gzip is read transparently, a ``.json`` file is one pretty-printed
        record (lines read by osreplay.model.ndjson.iter_lines); raises InputError when the file
        cannot be opened or read.
        """
        if is_document(path):  # a pretty-printed .json sample: problems at their lines
            yield self._validate_document(path)
            return
        for name, lineno, obj, error in iter_lines(path, self.max_line_bytes):
            if obj is None:
                yield unreadable(name, lineno, error)
                continue
            verdict = self._valid_record(obj, name, lineno)  # validate_object, inlined
            yield verdict if verdict is not None else self._check_object(obj, name, lineno)

    def line_verdict(self, raw: bytes, path: str, lineno: int) -> Verdict:
        """The verdict for one non-blank line's bytes, as :meth:`validate_file` gives it
        (osreplay.validate.scan calls it for each line the fast checks leave open)."""
        obj, error = parse_line(raw, last=not raw.endswith(b"\n"))
        if obj is None:
            return unreadable(path, lineno, error)
        return self.validate_object(obj, path=path, lineno=lineno)

    def _validate_document(self, path: str) -> Verdict:
        """A whole ``.json`` file; each problem names the line of its value (model.locate)."""
        # An unreadable one: at the line of its syntax error.
        line = read_document(path, self.max_line_bytes)
        if line.obj is None:
            return replace(unreadable(line.path, line.lineno, line.error), lineno=1)
        text = _document_text(path)
        verdict = self.validate_object(line.obj, path=line.path, lineno=1)
        if not verdict.problems or not text:
            return verdict
        from osreplay.model.locate import line_of, value_lines  # only for .json documents

        lines = {json_path(parts): n for parts, n in value_lines(text).items()}
        problems = tuple(
            replace(p, lineno=line_of(lines, p.json_path)) if p.json_path else p
            for p in verdict.problems
        )
        return replace(verdict, problems=problems)

    # -- one record ----------------------------------------------------------------------

    def validate_against(self, schema_name: str, instance: Any, *, prefix: str = "$") -> Found:
        """``[(json_path, message), ...]`` for ``instance`` against the shipped schema
        named ``schema_name`` (one of BUILTIN_SCHEMAS)."""
        return self._builtin[schema_name].problems(instance, prefix) or []

    def validate_object(self, obj: dict[str, Any], *, path: str = "-", lineno: int = 0) -> Verdict:
        """Check one parsed JSON object (a record, a wire body or a bare CADF event)."""
        verdict = self._valid_record(obj, path, lineno)
        return verdict if verdict is not None else self._check_object(obj, path, lineno)

    def fast_schema(self, obj: dict[str, Any]) -> tuple[str, ...] | None:
        """What the compiled checks alone say of a record, in the common case.

        The names of the schemas used (the Verdict's ``schemas``) when the record and its
        payload pass their checks: valid. :attr:`no_payload_schema` when the record passes
        and no shipped schema covers its payload (not strict). None when jsonschema must
        decide (:meth:`_check_object`): a check says no, user schemas, anything unusual.
        """
        if "event_type" not in obj or self._user:
            return None
        try:
            record = _as_record(obj)
            if not self._envelope_check(record):
                return None
            return self._fast_payload(record["event_type"], record["payload"])
        except (RecordError, RecursionError, KeyError, TypeError):
            return None

    def _fast_payload(self, event_type: Any, payload: Any) -> tuple[str, ...] | None:
        """:meth:`fast_schema` for a record that passed the envelope's check."""
        if payload.__class__ is not dict:
            return None if self.strict else self.no_payload_schema
        type_uri = payload.get("typeURI")
        keystone = _keystone_basic(event_type, payload)
        if type_uri.__class__ is str and type_uri.startswith(CADF_TYPEURI_PREFIX):
            if not self._cadf.check(payload):  # type: ignore[misc]
                return None
            if not keystone:
                return self._used["cadf-event"]
            return self._used_cadf_keystone if self._keystone.check(payload) else None  # type: ignore[misc]
        for key, family in self._families.items():
            if key in payload:
                if keystone:  # an object that is a keystone payload too: rare, jsonschema
                    return None
                found = family.resolve(payload)
                if found is None:  # only its wrapper: valid, or jsonschema says why not
                    if self.strict or not family.wrapper.check(payload):  # type: ignore[misc]
                        return None
                    return self.no_payload_schema
                return self._used_object(found) if family.tree_valid(payload, found) else None
        if keystone:
            return self._used["keystone-basic"] if self._keystone.check(payload) else None  # type: ignore[misc]
        return None if self.strict else self.no_payload_schema

    def _used_object(self, found: ObjectSchema) -> tuple[str, ...]:
        """``("envelope", name)`` for an object schema, one tuple per schema."""
        name = found.schema.name
        used = self._used_objects.get(name)
        if used is None:
            used = self._used_objects[name] = ("envelope", name)
        return used

    def _valid_record(self, obj: dict[str, Any], path: str, lineno: int) -> Verdict | None:
        """The common case, cheaply (:meth:`fast_schema`) as a Verdict; else None.

        None sends the record to :meth:`_check_object`, which decides (and words the
        problems) with jsonschema wherever a fast check says no or is missing.
        """
        used = self.fast_schema(obj)
        if used is None:
            return None
        event_type = _as_record(obj)["event_type"]
        if used is self.no_payload_schema:
            return Verdict(path, lineno, event_type, NO_SCHEMA, used)
        return Verdict(path, lineno, event_type, VALID, used)

    def _check_object(self, obj: dict[str, Any], path: str, lineno: int) -> Verdict:
        if _is_bare_cadf(obj):
            found = self._cadf.problems(obj, "$")
            # No event_type around it: name it by its CADF action (else its typeURI).
            label = obj.get("action")
            if not isinstance(label, str) or not label:
                label = obj.get("typeURI")
            return self._verdict(path, lineno, label, ("cadf-event",), found, payload_schema=True)

        try:
            record = normalise(obj)
            reason = unreadable_reason(record)
        except RecordError as exc:
            reason = str(exc)
        if reason is not None:
            # Not a notification at all: the rule replay and record apply (one function).
            event_type = obj.get("event_type")
            event_type = event_type if isinstance(event_type, str) else None
            problem = Problem(path, lineno, event_type, None, reason)
            return Verdict(path, lineno, event_type, UNREADABLE, (), (problem,))

        event_type = record.get("event_type")
        if not isinstance(event_type, str):
            event_type = None
        found = self._envelope.problems(record, "$") or []
        used = ["envelope"]
        payload_schema = False
        if "payload" in record:
            payload_schema = self._payload_problems(event_type, record["payload"], used, found)
        return self._verdict(path, lineno, event_type, tuple(used), found, payload_schema)

    def _payload_problems(
        self, event_type: str | None, payload: Any, used: list[str], found: Found
    ) -> bool:
        """Check ``payload`` against its shipped schemas, then every matching user schema:
        their names go to ``used``, their problems to ``found``. True when a payload
        schema covered it (False: none, or only a versioned object's wrapper)."""
        covered = False
        schemas: list[Schema] = []
        if payload.__class__ is dict:
            type_uri = payload.get("typeURI")
            if type_uri.__class__ is str and type_uri.startswith(CADF_TYPEURI_PREFIX):
                schemas.append(self._cadf)
            family = next((f for key, f in self._families.items() if key in payload), None)
            if family is not None and not schemas:
                try:
                    schema, more = family.problems(payload, "$.payload")
                except RecursionError:
                    schema, more = family.wrapper, [("$.payload", "nesting too deep to validate")]
                used.append((schema or family.wrapper).name)
                covered = schema is not None
                found.extend(more)
            if _keystone_basic(event_type, payload):
                schemas.append(self._keystone)
        if self._user and event_type is not None:
            schemas.extend(
                schema for glob, schema in self._user if fnmatch.fnmatchcase(event_type, glob)
            )
        for schema in schemas:
            covered = True
            used.append(schema.name)
            found.extend(schema.problems(payload, "$.payload") or [])
        return covered

    def _verdict(
        self,
        path: str,
        lineno: int,
        event_type: str | None,
        schemas: tuple[str, ...],
        found: list[tuple[str, str]] | None,
        payload_schema: bool,
    ) -> Verdict:
        if found:
            if len(found) > MAX_PROBLEMS_PER_RECORD:
                extra = len(found) - MAX_PROBLEMS_PER_RECORD + 1
                found = found[: MAX_PROBLEMS_PER_RECORD - 1] + [("$", f"and {extra} more problems")]
            problems = tuple(Problem(path, lineno, event_type, jp, msg) for jp, msg in found)
            return Verdict(path, lineno, event_type, INVALID, schemas, problems)
        if not payload_schema:
            if not self.strict:
                return Verdict(path, lineno, event_type, NO_SCHEMA, schemas)
            missing = Problem(
                path, lineno, event_type, "$.payload", "no payload schema for this event type"
            )
            return Verdict(path, lineno, event_type, NO_SCHEMA, schemas, (missing,))
        return Verdict(path, lineno, event_type, VALID, schemas)


def parse_schema_option(text: str) -> tuple[str, str]:
    """``EVENT_TYPE_GLOB=PATH`` -> ``(glob, path)``; raise UsageError when malformed."""
    from osreplay.validate.user_schemas import parse_schema_option as parse

    return parse(text)


def _keystone_basic(event_type: Any, payload: dict[str, Any]) -> bool:
    """keystone's basic notification payload (``resource_info`` in an ``identity.*`` event);
    a CADF payload may be one too (keystone adds ``resource_info`` to its CADF events)."""
    return (
        "resource_info" in payload
        and event_type.__class__ is str
        and event_type.startswith("identity.")
    )


def _is_bare_cadf(obj: dict[str, Any]) -> bool:
    """A CADF event with no notification around it, its ``typeURI`` right or wrong."""
    if is_bare_cadf(obj):
        return True
    type_uri = obj.get("typeURI")
    return (
        "event_type" not in obj
        and type_uri.__class__ is str
        and type_uri.startswith(CADF_TYPEURI_PREFIX)
    )


def _as_record(obj: dict[str, Any]) -> dict[str, Any]:
    """``normalise(obj)``; a record already in the recording format (the usual case) is its
    own normalised form: no copy, no scan for oslo v1 ``_context_`` keys."""
    if _RECORD_KEYS.issuperset(obj) and obj["priority"] in _PRIORITY_SET:
        return obj
    return normalise(obj)


def _document_text(path: str) -> str | None:
    """The text of a ``.json`` document, to find lines in (None when not UTF-8 text)."""
    handle = open_binary(path)
    try:
        return handle.read().decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        return None
    finally:
        handle.close()


__all__ = [
    "BUILTIN_SCHEMAS",
    "CADF_TYPEURI_PREFIX",
    "INVALID",
    "NO_SCHEMA",
    "Problem",
    "Summary",
    "UNREADABLE",
    "VALID",
    "Validator",
    "Verdict",
    "compile_check",
    "error_message",
    "inline_refs",
    "json_path",
    "load_builtin_schema",
    "parse_schema_option",
]
