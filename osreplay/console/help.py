"""What ``osreplay COMMAND --help`` says: every command's and every option's help text.

The click layer declares options (names, types, defaults); their words live here, with
the rest of the text a person reads. Keys are click's parameter names.
"""

from __future__ import annotations

_BUS = {
    "url": "Transport URL to {action} (else $OSREPLAY_TRANSPORT_URL, else --config-file, "
    "else rabbit://guest:guest@localhost:5672/).",
    "config_files": "A service's oslo.config file (e.g. /etc/nova/nova.conf) to read the "
    "transport URL, topics and [oslo_messaging_rabbit] options from (repeatable).",
}
_FILTERS = {
    "event_types": "{verb} only event types matching GLOB, e.g. 'compute.instance.*' "
    "(repeatable).",
    "publishers": "{verb} only publisher ids matching GLOB, e.g. 'nova-compute:*' (repeatable).",
    "priorities": "{verb} only this priority (repeatable).",
}
_MAX_LINE_BYTES = (
    "Longest line read (32 MiB by default); a longer line is reported unreadable "
    "without being held in memory."
)
_REDACT_KEY = "Also mask this key, in the context and in payloads (repeatable)."
_REPORT_FORMAT = "A readable report, or one JSON document."
# The last paragraph of every command that reads FILEs.
_FILES = (
    "\n\nA FILE may also be a folder (its *.ndjson and *.ndjson.gz files) or a quoted glob "
    "such as 'cap-*.ndjson.gz'; both are read in sorted order."
)
_MERGE = (
    "Read the FILEs record by record in timestamp order (a rotated capture, captures "
    "taken side by side) instead of one after another"
)


def _shared(action: str, verb: str) -> dict[str, str]:
    texts = {key: text.format(action=action) for key, text in _BUS.items()}
    texts.update({key: text.format(verb=verb) for key, text in _FILTERS.items()})
    return texts


COMMANDS: dict[str, str] = {
    "validate": """Check recordings (NDJSON, `-` for stdin, .gz) against the notification schemas.

Prints `FILE:LINE: EVENT_TYPE: JSON_PATH: message` per problem and a summary line.
Exits 0 when every record is valid, 1 when any is invalid or unreadable, 2 when a
file cannot be read, 130 after Ctrl-C and 143 after SIGTERM."""
    + _FILES,
    "replay": """Republish recorded notifications through an oslo.messaging Notifier, paced.

Reads FILEs (NDJSON, .gz), or standard input with no FILE or `-`, replaying records
as they arrive: `osreplay record --url PROD | osreplay replay --url TEST` mirrors a
live cloud into a test cluster. Files are replayed one after another, or with --merge
record by record in timestamp order. Paced as recorded unless --speed or --rate says
otherwise. Exits 0 when the broker confirmed every selected record, 1 when one was
not (the replay stops and prints the --start-at that resumes it) or a line is
unreadable, 2 for usage errors or an unreachable broker, 130 after Ctrl-C and 143
after SIGTERM (both print the summary and where to resume)."""
    + _FILES,
    "record": """Record notifications from the bus into NDJSON, on osreplay's own queues.

Real consumers such as Ceilometer still get every message. A message is acknowledged
only once its line is written and flushed. Stops on Ctrl-C / SIGTERM (a second Ctrl-C
forces), --count or --duration; deletes its tap queues unless --keep-queue.""",
    "stats": """Show what is in recordings: counts, time span, rate.

Reads NDJSON recordings (`-` for stdin, .gz). Counts by event type, publisher,
priority, exchange, CADF action and outcome, and versioned payload; records per
second over the span. Unreadable lines are counted and named on stderr. Exits 0,
or 2 when a file cannot be read."""
    + _FILES,
    "trace": """Follow a request or a resource through recordings.

Groups records by request id, by global request id (a chain of requests across
services, each service's request a child), by resource id, or by osprofiler trace
(osprofiler's span tree, as its own report gives it), in time order; pairs each
X.start with X.end (or .error, .failure, .failed) and gives durations; starts
without an end are flagged open. Exits 0, 1 when --id matches no record,
2 when a file cannot be read."""
    + _FILES,
    "diff": """Compare two recordings of one scenario, beyond volatile fields.

Records are matched per event type in order; ids, UUIDs, times and host numbers are
volatile. Exits 0 when nothing else differs, 1 when something does, 2 on errors.

Each of A and B may be a folder or a quoted glob such as 'cap-*.ndjson.gz': its files
are read in sorted order as one recording.""",
    "timeline": """Draw recordings over time as one self-contained HTML page.

Two views: a strip, one row per event type (or publisher), colour by priority,
failures marked in proportion; and a waterfall, one lane per request, resource or
osprofiler trace (--by) with its spans. Hover or click for the record, drag to zoom,
filter by event type, publisher or id. Exits 0, or 2 when a file cannot be read or
written."""
    + _FILES,
    "redact": """Scrub recordings IN (NDJSON, .gz, - for stdin) with the rules record applies.

Masks tokens, passwords and other secrets exactly as `osreplay record` does by
default. Unreadable lines are dropped and listed. Exits 0 when every line was
scrubbed, 1 when a line was dropped, 2 for usage errors.

Several INs are scrubbed in order into the one output; an IN may also be a folder (its
*.ndjson and *.ndjson.gz files) or a quoted glob such as 'cap-*.ndjson.gz'.""",
}

OPTIONS: dict[str, dict[str, str]] = {
    "main": {"verbose": "More logging on stderr (-vv for debug)."},
    "validate": {
        "fmt": "Report format: one line per problem, or one JSON document for CI.",
        "strict": "Also fail records whose payload no schema covers.",
        "schemas": "Check payloads of matching event types against your own JSON Schema "
        "(repeatable).",
        "quiet": "Print only the summary line.",
        "max_line_bytes": _MAX_LINE_BYTES,
    },
    "replay": {
        **_shared(action="replay into", verb="Replay"),
        "exchange": "Send every record to this exchange (default: the record's exchange, "
        "else the control exchange, openstack).",
        "topic": "Send every record on this topic (default: the record's topic, else "
        "notifications).",
        "driver": "Wire format: messagingv2 is the enveloped format services use; messaging "
        "the legacy bare one.",
        "speed": "Replay the recorded gaps X times faster (2 halves them).",
        "rate": "Ignore the recorded timing: a steady N messages per second, none dropped; "
        "0 sends as fast as possible. Required when records have no timestamp.",
        "max_gap": "Never wait more than SECONDS between two records (recorded timing only).",
        "limit": "Replay at most N selected records (per pass).",
        "merge": _MERGE + "; --start-at FILE:LINE then names a place in that order.",
        "start_at": "Begin at this line of the first file (FILE:LINE for another file); what "
        "a stopped replay prints to resume.",
        "loop": "Replay the whole selection N times; 0 repeats it until interrupted "
        "(files only).",
        "workers": "Publish over N worker processes, each with its own connection; records "
        "sharing a request or resource id keep their order; --rate and --speed hold for "
        "the whole stream (--dry-run plans as one worker).",
        "retry": "Reconnection attempts per record before it counts as failed and the "
        "replay stops.",
        "skip_invalid": "Replay the readable records and report unreadable lines instead "
        "of refusing.",
        "dry_run": "Connect to nothing; print each record's planned offset, exchange, topic, "
        "priority, publisher and event type (and the rewritten record with --fresh-ids, "
        "--retime or --set).",
        "fresh_ids": "Replace every UUID and request id by a new one: the same within a "
        "pass, new in each pass of --loop.",
        "retime": "Move every date-time in the records by one offset so that the first "
        "record's time is when it is sent (gaps and formats kept).",
        "sets": "Overwrite this field in every record where it exists, e.g. "
        "'$.payload.tenant_id=test-project'; VALUE is JSON if it parses, else a string "
        "(repeatable).",
        "quiet": "No progress bar and no summary line.",
        "max_line_bytes": _MAX_LINE_BYTES,
    },
    "record": {
        **_shared(action="record from", verb="Record"),
        "topics": "Notification topic (repeatable; default: notifications, or the config "
        "file's topics).",
        "exchanges": "Exchange to record (repeatable; replaces the default list: openstack "
        "and the exchanges Ceilometer listens on).",
        "pool": "Pool (tap queue prefix) to listen with; default osreplay-<host>.",
        "keep_queue": "Leave the tap queues on the broker at exit, so they keep collecting "
        "for a later --pool NAME --append run.",
        "output": "Where to write the records (NDJSON; .gz compresses; - is stdout). With "
        "--rotate: a folder (files osreplay-00001.ndjson, ...) or a pattern with {n}, e.g. "
        "cap-{n:05d}.ndjson.gz ({time:%Y%m%d-%H%M%S} adds the opening time, UTC).",
        "rotate": "Write a series of files: close each whole and start the next once it "
        "holds SIZE on disk (100KB, 256MB, 1GiB; it may go over by the last batch written, "
        "or the few written with it) or is DURATION old (90s, 30m, 1h, 1d). Give one of "
        "each to close at whichever comes first. Existing files are never overwritten.",
        "append": "Append to the output file, skipping records already in it (with "
        "--rotate: go on with a new file after the highest existing number).",
        "fsync": "Make each batch durable on disk before acknowledging it.",
        "count": "Stop after writing N records.",
        "duration": "Stop after SECONDS.",
        "no_redact": "Keep tokens and passwords in the records (they are masked by default).",
        "redact_keys": _REDACT_KEY,
        "connect_timeout": "Give up when the broker does not answer within SECONDS.",
        "batch_size": "Messages per listener batch (and half the prefetch).",
        "durable": "Declare the tap queues durable, so they and their messages survive a "
        "broker restart (needs durable exchanges, as with amqp_durable_queues = true).",
        "queue_type": "quorum: replicated quorum tap queues (always durable; RabbitMQ 3.8 "
        "or later). Default: quorum when [oslo_messaging_rabbit] rabbit_quorum_queue is "
        "true, else classic.",
        "quiet": "No live counter, no summary and no line per new --rotate file (the ready "
        "line and errors still print).",
    },
    "stats": {"fmt": _REPORT_FORMAT},
    "trace": {
        "by": "Group by request id (ctxt, else where the service put it), by "
        "ctxt.global_request_id (one chain across services), by the resource the payload is "
        "about, or by osprofiler trace (payload.base_id).",
        "group_id": "Show only the group with this key.",
        "merge": _MERGE + ".",
        "max_groups": "Groups held at once; past it the least recently active one is "
        "closed early.",
        "fmt": _REPORT_FORMAT,
    },
    "diff": {
        "ignore": "Also ignore this field, e.g. '$.payload.reason' or '$..display_name' "
        "(repeatable).",
        "fmt": _REPORT_FORMAT,
    },
    "timeline": {
        "output": "The HTML file to write (one file, no network needed to open it); - is "
        "stdout.",
        "rows": "One row per event type, or per publisher.",
        "max_marks": "Keep the whole record for the detail view for the first N records "
        "and up to N failures after them.",
        "by": "The waterfall's lanes: one per request id, global request id, resource or "
        "osprofiler trace, as `osreplay trace --by` groups them.",
        "max_lanes": "Keep at most N lanes, and up to N lanes with a failure after them.",
    },
    "redact": {
        "output": "Where to write the scrubbed recording (NDJSON; .gz compresses; - is stdout).",
        "pseudonymise": "Also replace UUIDs, request ids, IP addresses, user/project/domain "
        "ids and names and host names by consistent keyed pseudonyms of the same shape.",
        "seed": "Key the pseudonyms with S: the same seed gives the same output (default: "
        "a random key, never shown).",
        "redact_keys": _REDACT_KEY,
    },
}
