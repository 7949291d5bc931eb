"""``osreplay ceilometer``: what Ceilometer 27's notification agent makes of recordings.

:func:`run` reads the definition files first (a broken event definition stops the agent
at start-up, so it is an error here; a broken meter is skipped by the agent, so it is
listed), then every record once, and returns a :class:`Prediction`: per event type and
per meter summaries, coverage, and every event and sample one by one.

What the agent never sees is counted, not converted: records heard on a topic it does not
listen on (when the record says where it was heard), and priorities it ignores (events
come from INFO and ERROR, samples from INFO and SAMPLE). The exchange does not matter:
the agent listens on a list of exchanges, but its queues are named after the topic
alone (``notifications.info``), and every publisher binds that same queue to its own
exchange before it sends; a notification on ``openstack`` reached a real agent.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from osreplay.consumers.events import CATCH_ALL, EventConverter, EventDefinition, Trait
from osreplay.consumers.isotime import parse_isotime
from osreplay.consumers.meters import MeterDefinition, MeterSet, Produced, Raised, load_meters
from osreplay.errors import UsageError
from osreplay.model.files import expand_inputs
from osreplay.model.notification import Notification
from osreplay.scenario.records import Unreadable, read

CEILOMETER_TOPICS = ("notifications",)
EVENT_PRIORITIES = frozenset({"INFO", "ERROR"})
SAMPLE_PRIORITIES = frozenset({"INFO", "SAMPLE"})
#: Event types Ceilometer's built-in sample endpoints handle (not from meter files).
BUILTIN_SAMPLE_TYPES = ("telemetry.polling", "hardware.ipmi.*", "http.request", "http.response")
FAIL_CONDITIONS = ("unmatched", "empty-trait", "no-sample", "dropped")
# When a record has no readable time: the agent always has one (oslo sets it).
_ANY_TIME = "1970-01-01 00:00:00"


@dataclass(frozen=True, slots=True)
class CeilometerOptions:
    files: tuple[str, ...]
    events: str | None = None
    meters: tuple[str, ...] = ()
    drop_unmatched: bool = False
    topics: tuple[str, ...] = CEILOMETER_TOPICS
    fail_on: tuple[str, ...] = ()
    #: keep every event and sample (the JSON report lists them); the text report only
    #: counts them, so memory stays flat on a large recording
    keep_items: bool = True


@dataclass(slots=True)
class TraitStats:
    name: str
    type: str
    declared: bool
    given: int = 0
    empty: int = 0
    example: Any = None


@dataclass(slots=True)
class EventTypeReport:
    event_type: str
    definition: str | None  # file:line, "catch-all", or None when dropped unmatched
    records: int = 0
    events: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    traits: dict[str, TraitStats] = field(default_factory=dict)
    first_dropped: str | None = None

    @property
    def unmatched(self) -> bool:
        return self.definition in (CATCH_ALL, None)


@dataclass(slots=True)
class MeterReport:
    name: str
    definition: str
    records: int = 0
    samples: int = 0
    low: float | None = None
    high: float | None = None
    no_sample: Counter[str] = field(default_factory=Counter)
    first_no_sample: dict[str, str] = field(default_factory=dict)
    refused_samples: int = 0

    def add_volume(self, volume: Any) -> None:
        number = float(volume)
        if math.isnan(number):
            return
        self.low = number if self.low is None else min(self.low, number)
        self.high = number if self.high is None else max(self.high, number)


@dataclass(slots=True)
class Prediction:
    """Everything ``osreplay ceilometer`` reports."""

    files: tuple[str, ...]
    events_file: str | None
    meter_files: list[str]
    records: int = 0
    unreadable: int = 0
    not_heard: Counter[str] = field(default_factory=Counter)
    event_types: dict[str, EventTypeReport] = field(default_factory=dict)
    meters: dict[str, MeterReport] = field(default_factory=dict)
    unused_definitions: list[tuple[str, list[str]]] = field(
        default_factory=list
    )  # (FILE:LINE, event_type)
    skipped_meters: list[tuple[str, str]] = field(default_factory=list)
    requeued: list[str] = field(default_factory=list)  # FILE:LINE: why
    builtin: Counter[str] = field(default_factory=Counter)
    events: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    event_count: int = 0
    sample_count: int = 0

    @property
    def unmatched_types(self) -> list[str]:
        return [t for t, report in self.event_types.items() if report.unmatched]

    @property
    def unused_meters(self) -> list[MeterReport]:
        return [m for m in self.meters.values() if m.records == 0]

    def conditions(self) -> dict[str, bool]:
        """Which ``--fail-on`` conditions hold."""
        return {
            "unmatched": bool(self.unmatched_types),
            "empty-trait": any(
                t.empty for r in self.event_types.values() for t in r.traits.values() if t.declared
            ),
            "no-sample": any(m.no_sample for m in self.meters.values()),
            "dropped": bool(self.requeued) or any(r.dropped for r in self.event_types.values()),
        }

    def failed(self, fail_on: tuple[str, ...]) -> list[str]:
        held = self.conditions()
        return [name for name in fail_on if held.get(name)]


class CeilometerConsole(Protocol):
    def unreadable(self, line: Unreadable) -> None: ...


class _Predictor:
    def __init__(self, options: CeilometerOptions, prediction: Prediction) -> None:
        self.options = options
        self.out = prediction
        self.converter = (
            EventConverter(options.events, drop_unmatched=options.drop_unmatched)
            if options.events is not None
            else None
        )
        self.meter_set: MeterSet | None = load_meters(options.meters) if options.meters else None
        if self.meter_set is not None:
            prediction.meter_files = self.meter_set.files
            prediction.skipped_meters = self.meter_set.skipped
            for meter in self.meter_set.meters:
                prediction.meters[meter.name] = MeterReport(meter.name, meter.where)
        self.won: set[str] = set()
        self.last_event: dict[str, Any] | None = None

    def add(self, path: str, lineno: int, note: Notification) -> None:
        where = f"{path}:{lineno}"
        self.out.records += 1
        reason = self._not_heard(note)
        if reason is not None:
            self.out.not_heard[reason] += 1
            return
        body = _body(note)
        self.last_event = None
        if self.converter is not None and note.priority in EVENT_PRIORITIES:
            self._event(note.event_type, body, where)
        if self.meter_set is not None and note.priority in SAMPLE_PRIORITIES:
            if not self._samples(note.event_type, body, where) and self.last_event is not None:
                # The event endpoint ran first: the agent publishes this event again at
                # every redelivery (thousands a minute), until the message is purged.
                self.last_event["requeued"] = True
            if any(_glob(note.event_type, t) for t in BUILTIN_SAMPLE_TYPES):
                self.out.builtin[note.event_type] += 1

    def _not_heard(self, note: Notification) -> str | None:
        if note.topic is not None and note.topic not in self.options.topics:
            return f"topic {note.topic}"
        if note.priority not in EVENT_PRIORITIES | SAMPLE_PRIORITIES:
            return f"priority {note.priority}"
        return None

    def _event(self, event_type: str, body: dict[str, Any], where: str) -> None:
        assert self.converter is not None
        definition = self.converter.definition_for(event_type)
        report = self.out.event_types.get(event_type)
        if report is None:
            report = self.out.event_types[event_type] = EventTypeReport(
                event_type, definition.where if definition is not None else None
            )
            if definition is not None:
                self._trait_rows(report, definition)
        report.records += 1
        if definition is None:  # --drop-unmatched and nothing matched: unmatched, no event
            return
        self.won.add(definition.where)
        try:
            outcome = definition.to_event(body)
        except Exception as exc:  # what Ceilometer's converter raises: the event is dropped
            reason = f"{type(exc).__name__}: {exc}"
            report.dropped[_trim(reason)] += 1
            report.first_dropped = report.first_dropped or where
            return
        report.events += 1
        self.out.event_count += 1
        for trait in outcome.traits:
            stats = report.traits[trait.name]
            stats.given += 1
            if stats.example is None:
                stats.example = trait.value
        for name in outcome.empty:
            report.traits[name].empty += 1
        self.last_event = {
            "event_type": event_type,
            "message_id": body["metadata"]["message_id"],
            "record": where,
            "definition": definition.where,
            "requeued": False,
            "traits": [_trait_doc(t) for t in outcome.traits],
        }
        if self.options.keep_items:
            self.out.events.append(self.last_event)

    @staticmethod
    def _trait_rows(report: EventTypeReport, definition: EventDefinition) -> None:
        for name, trait in definition.traits.items():
            report.traits[name] = TraitStats(name, trait.type, name in definition.declared)

    def _samples(self, event_type: str, body: dict[str, Any], where: str) -> bool:
        """Predict the samples; False when the endpoint raises (the message is requeued)."""
        assert self.meter_set is not None
        matched = [m for m in self.meter_set.meters if m.match_type(event_type)]
        produced: list[tuple[MeterDefinition, Produced]] = []
        try:
            for meter in matched:
                produced.append((meter, meter.to_samples(body)))
        except Raised as exc:
            # The endpoint raises for the whole notification: no meter's sample survives.
            self.out.requeued.append(f"{where}: {meter.name}: {exc}")
            for meter in matched:
                self._no_sample(meter.name, RAISE_REASON, where)
            return False
        for meter, result in produced:
            report = self.out.meters[meter.name]
            report.records += 1
            report.samples += len(result.samples)
            report.refused_samples += len(result.refused) if result.samples else 0
            if not result.samples:
                reason = "; ".join(dict.fromkeys(result.refused)) or "no sample"
                self._no_sample(meter.name, reason, where, count=False)
            for sample in result.samples:
                report.add_volume(sample.volume)
                self.out.sample_count += 1
                if self.options.keep_items:
                    self.out.samples.append(_sample_doc(sample, body, where, meter.where))
        return True

    def _no_sample(self, name: str, reason: str, where: str, *, count: bool = True) -> None:
        report = self.out.meters[name]
        if count:
            report.records += 1
        report.no_sample[reason] += 1
        report.first_no_sample.setdefault(reason, where)

    def finish(self) -> None:
        if self.converter is not None:
            self.out.unused_definitions = [
                (d.where, d.event_types)
                for d in self.converter.file_definitions
                if d.where not in self.won
            ]


RAISE_REASON = "Ceilometer raises: requeued, no sample from any meter"


def _body(note: Notification) -> dict[str, Any]:
    """The notification as oslo's listener hands it to Ceilometer's endpoints."""
    moment = note.timestamp
    try:
        parse_isotime(moment)
    except ValueError:
        moment = note.recorded_at if _parses(note.recorded_at) else _ANY_TIME
    return {
        "ctxt": note.ctxt if note.ctxt is not None else {},
        "publisher_id": note.publisher_id,
        "event_type": note.event_type,
        "payload": note.payload,
        "metadata": {"message_id": note.message_id, "timestamp": moment},
    }


def _parses(value: Any) -> bool:
    try:
        parse_isotime(value)
    except ValueError:
        return False
    return True


def _glob(name: str, pattern: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(name, pattern)


def _trim(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _trait_doc(trait: Trait) -> dict[str, Any]:
    return {"name": trait.name, "type": trait.type, "value": trait.value}


def _sample_doc(sample: Any, body: dict[str, Any], where: str, definition: str) -> dict[str, Any]:
    return {
        "name": sample.name,
        "type": sample.type,
        "unit": sample.unit,
        "volume": sample.volume,
        "resource_id": sample.resource_id,
        "user_id": sample.user_id,
        "project_id": sample.project_id,
        "metadata": sample.metadata,
        "message_id": body["metadata"]["message_id"],
        "record": where,
        "definition": definition,
    }


def run(options: CeilometerOptions, console: CeilometerConsole) -> Prediction:
    """Predict the agent's events and samples; raises ConfigError for a broken definition
    file, InputError for an unreadable recording, UsageError without definitions."""
    if options.events is None and not options.meters:
        raise UsageError("give --events FILE, --meters FILE_OR_DIR, or both")
    unknown = [name for name in options.fail_on if name not in FAIL_CONDITIONS]
    if unknown:
        raise UsageError(f"--fail-on {unknown[0]}: not one of {', '.join(FAIL_CONDITIONS)}")
    files = expand_inputs(options.files)
    prediction = Prediction(files, options.events, [])
    predictor = _Predictor(options, prediction)

    def on_unreadable(line: Unreadable) -> None:
        prediction.unreadable += 1
        console.unreadable(line)

    for entry in read(files, on_unreadable):
        predictor.add(entry.path, entry.lineno, entry.note)
    predictor.finish()
    return prediction
