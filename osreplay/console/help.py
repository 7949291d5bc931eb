"""What ``osreplay COMMAND --help`` says: every command's and every option's help text.

The click layer declares options (names, types, defaults); their words live here, with
the rest of the text a person reads. Keys are click's parameter names.
"""

from __future__ import annotations

_BUS = {
    "url": "Transport URL to {action}, e.g. rabbit://user:pass@host:5672/vhost, special "
    "characters in the user and password percent-encoded (else $OSREPLAY_TRANSPORT_URL, "
    "else --config-file, else rabbit://guest:guest@localhost:5672/). Passwords are masked "
    "in every message.",
    "config_files": "A service's oslo.config file (e.g. /etc/nova/nova.conf) to read from "
    "(repeatable): [oslo_messaging_notifications] transport_url, then [DEFAULT] "
    "transport_url; the topics from [oslo_messaging_notifications] topics; "
    "[DEFAULT] control_exchange; the [oslo_messaging_rabbit] options (TLS, durable or "
    "quorum queues, heartbeats).",
}
_FILTERS = {
    "event_types": "{verb} only event types matching the shell-style GLOB, e.g. "
    "'compute.instance.*' (repeatable, any match).",
    "publishers": "{verb} only publisher ids matching GLOB, e.g. 'nova-compute:*' (repeatable).",
    "priorities": "{verb} only this priority; warning means warn (repeatable).{more}",
}
_MAX_LINE_BYTES = (
    "Longest line read (32 MiB by default); a longer line is reported unreadable "
    "without being held in memory."
)
_REDACT_KEY = (
    "Also mask this key, in the context and anywhere in payloads, any case (repeatable)."
)
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


def _shared(action: str, verb: str, more: str = "") -> dict[str, str]:
    texts = {key: text.format(action=action) for key, text in _BUS.items()}
    texts.update({key: text.format(verb=verb, more=more) for key, text in _FILTERS.items()})
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
    "tap": """Manage stream taps: flight recorders the broker keeps (RabbitMQ 3.9 or later).

A tap is a RabbitMQ stream bound to the notification exchanges: it keeps a copy of every
notification for as long as its retention says, with no osreplay process running, and
takes nothing from the real consumers. Read a window of it back with
`osreplay record --from-tap NAME --since TIME -o FILE`.""",
    "tap create": """Create stream tap NAME, bound to the exchanges and topics given.

Exits 0, or 2 when NAME exists or the broker cannot be reached.""",
    "tap list": """List the stream taps: exchanges, messages, size, first and last, retention.

Exits 0, or 2 when the broker cannot be reached.""",
    "tap delete": """Delete stream tap NAME and everything it kept.

Exits 0 (also when there was no such tap), or 2 when the broker cannot be reached.""",
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
    "ceilometer": """Predict what Ceilometer's notification agent makes of recordings.

Applies your event definitions (--events, e.g. /etc/ceilometer/event_definitions.yaml)
and meter definitions (--meters, e.g. /etc/ceilometer/meters.d) to every record exactly
as Ceilometer 27 does, and reports per event type the winning definition and each
trait's values (and how often it was silently left out), per meter the samples and
the records that gave none and why, and the coverage of both. --format json also lists
every event and every sample. Exits 0, 1 when a --fail-on condition holds, 2 when a
file cannot be read or a definition file is broken."""
    + _FILES,
    "schema": """Infer payload schemas from recordings, and compare them between releases.""",
    "schema infer": """Write one JSON Schema per event type (and payload version) into DIR.

Every payload of the recordings is fed to genson's schema builder, one per event type,
and per version of a versioned payload (nova_object.version, ironic_object.version):
DIR/<event_type>.schema.json, DIR/<event_type>@<version>.schema.json. Exits 0, or 2
when a file cannot be read or written."""
    + _FILES,
    "schema diff": """Compare the payload schemas of two recordings or two schema folders.

Each of A and B is a recording (a file, a folder of recordings, a quoted glob) or a
folder written by `osreplay schema infer`. Reports, with JSON paths, the event types
added and removed, fields added and removed, fields whose type changed and fields
that became nullable; lines marked ! are breaking (a removed event type or field, a
new type). Only structure is compared: a rerun with new ids, times and hosts shows no
change. Exits 0, 1 when a breaking change is found, 2 on errors.""",
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
        "schemas": "Also check the payload of records whose event_type matches the "
        "shell-style GLOB against your JSON Schema at PATH, e.g. 'volume.*=volume.json' "
        "(repeatable).",
        "quiet": "Print only the summary line.",
        "max_line_bytes": _MAX_LINE_BYTES,
    },
    "replay": {
        **_shared(action="replay into", verb="Replay"),
        "exchange": "Send every record to this exchange, whatever its own (default: the "
        "record's exchange, else the control exchange, openstack).",
        "topic": "Send every record on this topic, whatever its own (default: the record's "
        "topic, else notifications).",
        "driver": "Wire format: messagingv2 is the {\"oslo.version\": \"2.0\", "
        "\"oslo.message\": ...} envelope services send; messaging the legacy bare message.",
        "speed": "Divide the recorded gaps by X: 2 replays twice as fast, 0.5 at half speed.",
        "rate": "Ignore the recorded timing: a steady N messages per second, none dropped "
        "(when the broker is slower, records go out late, not never); 0 sends as fast as "
        "possible. Required when records have no timestamp nor recorded_at; not with "
        "--speed.",
        "max_gap": "Never wait more than SECONDS between two records (a recording that "
        "idled overnight); recorded timing only, not with --rate.",
        "limit": "Replay at most N selected records (per pass).",
        "merge": _MERGE + "; --start-at FILE:LINE then names a place in that order.",
        "start_at": "Begin at this line of the first file; FILE:LINE begins at a line of a "
        "later file, skipping the files before it (with --merge: every record merged before "
        "it). What a stopped replay prints to resume.",
        "loop": "Replay the whole selection N times; 0 repeats it until interrupted. Files "
        "only (standard input is read once); the pace continues across passes.",
        "workers": "Publish over N worker processes, each with its own connection; records "
        "sharing a request or resource id keep their order; --rate and --speed hold for "
        "the whole stream; the summary and resume point stay exact (--dry-run plans as one "
        "worker).",
        "retry": "Reconnection attempts per record while the broker is unreachable before "
        "it counts as failed and the replay stops (3: about 13 s with oslo's back-off; 0 "
        "gives up at the first error). Always finite, unlike oslo's default.",
        "skip_invalid": "Replay the readable records and list the unreadable lines on "
        "stderr instead of refusing the file (on standard input: instead of stopping).",
        "dry_run": "Connect to nothing; print, tab-separated with a header, each record's "
        "file, line, planned offset, exchange, topic, priority, publisher and event type "
        "(and the rewritten record with --fresh-ids, --retime or --set).",
        "fresh_ids": "Replace every UUID (with or without dashes) and request id "
        "(req-<uuid>) by a new one: the same new id for the same original within a pass, "
        "new ones in each pass of --loop.",
        "retime": "Move every date-time in the records by one offset so that the first "
        "record's time is when it is sent (gaps and each value's format kept).",
        "sets": "Overwrite this field in every record where it exists, e.g. "
        "'payload.tenant_id=test-project' ('$.' optional, paths as diff --ignore writes "
        "them); VALUE is JSON if it parses, else a string; warns when the path matches no "
        "record (repeatable).",
        "quiet": "No progress bar and no summary line; errors still print.",
        "max_line_bytes": _MAX_LINE_BYTES,
    },
    "record": {
        **_shared(
            action="record from",
            verb="Record",
            more=" Filtered-out messages are acked and counted, not written.",
        ),
        "topics": "Notification topic (repeatable; default: notifications, or the config "
        "file's topics).",
        "exchanges": "Exchange to record (repeatable; replaces the default list: openstack "
        "and the exchanges Ceilometer listens on: nova glance neutron cinder heat keystone "
        "trove zaqar swift ceilometer magnum dns ironic aodh, plus each --config-file's "
        "[DEFAULT] control_exchange). An existing exchange is used as it is; a missing one "
        "is declared as the services are configured.",
        "pool": "Pool (tap queue prefix) to listen with; default osreplay-<host>. A named "
        "pool is used as it is, messages already in it included, and refused if another "
        "recorder holds it (a lock taken before the pool is looked at) or consumes from it.",
        "keep_queue": "Leave the tap queues on the broker at exit, so they keep collecting "
        "for a later --pool NAME --append run that resumes without a gap (a broker restart "
        "in between drops them unless --durable).",
        "output": "Where to write the records (NDJSON; .gz compresses; - is stdout). With "
        "--rotate: a folder (files osreplay-00001.ndjson, ...) or a pattern with {n}, e.g. "
        "cap-{n:05d}.ndjson.gz ({time:%Y%m%d-%H%M%S} adds the opening time, UTC).",
        "rotate": "Write a series of files: close each whole and start the next once it "
        "holds SIZE on disk (100KB, 256MB, 1GiB; it may go over by the last batch written, "
        "or the few written with it) or is DURATION old (90s, 30m, 1h, 1d). Give one of "
        "each to close at whichever comes first. Existing files are never overwritten.",
        "append": "Append to the output file, skipping records whose delivery (message_id, "
        "exchange, topic) is among its last 100,000; a partial last line left by a killed "
        "recorder is cut off first (with --rotate: go on with a new file after the highest "
        "existing number).",
        "fsync": "Sync each batch to disk before acknowledging it (slower; survives a power "
        "cut, not only a crash).",
        "count": "Stop after writing exactly N records.",
        "duration": "Stop after SECONDS.",
        "no_redact": "Keep tokens and passwords in the records (they are masked by default).",
        "redact_keys": _REDACT_KEY,
        "connect_timeout": "Give up when the broker does not answer within SECONDS.",
        "batch_size": "Messages handed to the writer per listener batch; the prefetch is "
        "twice this, so a huge backlog is not all pushed into memory.",
        "durable": "Declare the tap queues durable, so they and their messages survive a "
        "broker restart (their bindings too on durable exchanges; the exchanges are never "
        "made durable by it).",
        "queue_type": "quorum: replicated quorum tap queues (always durable; RabbitMQ 3.8 "
        "or later). Default: quorum when [oslo_messaging_rabbit] rabbit_quorum_queue is "
        "true, else classic.",
        "quiet": "No live counter, no summary and no line per new --rotate file (the ready "
        "line and errors still print).",
        "processes": "Record with N processes on one pool (competing consumers, a core "
        "each), each writing its own file: -o 'dir/part-{n}.ndjson'; --count is the total. "
        "Read the parts back in time order with replay --merge or trace --merge.",
        "from_tap": "Read what stream tap NAME kept (osreplay tap create) instead of "
        "listening: the window --since to --until, by each notification's own timestamp.",
        "since": "With --from-tap: the window's start (included): ISO 8601 (UTC when no "
        "zone is given), a duration back from now (2h, 30m, 90s) or first (default).",
        "until": "With --from-tap: the window's end (excluded): ISO 8601, a duration back "
        "from now, or now (default: stop once caught up with the stream).",
        "until_idle": "With --from-tap: also stop once no message has come for SECONDS "
        "(a window that ends in the future is followed live until then).",
    },
    "tap create": {
        **{key: text.format(action="create the tap on") for key, text in _BUS.items()},
        "exchanges": "Exchange to tap (repeatable; default: openstack and the exchanges "
        "Ceilometer listens on). An existing exchange is used as it is; a missing one is "
        "declared as the services would (--config-file, or oslo's default: transient).",
        "topics": "Notification topic (repeatable; default: notifications, or the config "
        "file's topics).",
        "max_age": "Keep messages this long (RabbitMQ's units: 7D, 12h, 30m; Y M D h m s).",
        "max_bytes": "Keep at most this much on the broker (500MB, 20GB, 1TiB); the oldest "
        "messages go first.",
        "connect_timeout": "Give up when the broker does not answer within SECONDS.",
    },
    "tap list": {
        **{key: text.format(action="list the taps of") for key, text in _BUS.items()},
        "connect_timeout": "Give up when the broker does not answer within SECONDS.",
    },
    "tap delete": {
        **{key: text.format(action="delete the tap from") for key, text in _BUS.items()},
        "connect_timeout": "Give up when the broker does not answer within SECONDS.",
    },
    "stats": {"fmt": _REPORT_FORMAT},
    "trace": {
        "by": "Group by request id (ctxt, else where the service put it), by "
        "ctxt.global_request_id (one chain across services), by the resource the payload is "
        "about, or by osprofiler trace (payload.base_id).",
        "group_id": "Show only the group with this key; exit 1 when there is none.",
        "merge": _MERGE + ".",
        "max_groups": "Groups held at once; past it the least recently active one is "
        "closed early.",
        "fmt": "A readable report, or one JSON list of groups, each with its records and "
        "spans.",
    },
    "diff": {
        "ignore": "Also ignore this field and everything under it, e.g. 'payload.reason' "
        "('$.' optional), \"$.payload['nova_object.data'].display_name\", [*] or .* for "
        "any index or key, '$..shares' for a key at any depth (repeatable).",
        "fmt": _REPORT_FORMAT,
    },
    "timeline": {
        "output": "The HTML file to write (one file, no network needed to open it); - is stdout.",
        "rows": "One row per event type, or per publisher.",
        "max_marks": "Keep the whole record for the detail view for the first N records "
        "and up to N failures after them.",
        "by": "The waterfall's lanes: one per request id, global request id, resource or "
        "osprofiler trace, as `osreplay trace --by` groups them.",
        "max_lanes": "Keep at most N lanes, and up to N lanes with a failure after them.",
    },
    "ceilometer": {
        "events": "Event definitions file (Ceilometer's event_definitions.yaml); without it "
        "no events are predicted.",
        "meters": "Meter definitions: a file, or a folder whose *.yaml files are read in "
        "sorted order, as Ceilometer's meter_definitions_dirs (repeatable).",
        "drop_unmatched": "Drop notifications no event definition matches, as "
        "[event] drop_unmatched_notifications = true (default: Ceilometer's catch-all "
        "event with the default traits).",
        "topics": "A notification topic the agent listens on (repeatable; default: "
        "notifications). Records heard on another topic are not converted.",
        "fail_on": "Exit 1 when this holds: unmatched (an event type matches no "
        "definition), empty-trait (a declared trait got no value), no-sample (a record "
        "matching a meter gave no sample), dropped (an event or a notification Ceilometer "
        "drops or requeues) (repeatable).",
        "fmt": "A readable report, or one JSON document with every event and sample.",
    },
    "schema": {},
    "schema infer": {
        "output": "The folder to write the schemas into (created if missing; schemas of "
        "the same name are replaced).",
        "fmt": _REPORT_FORMAT,
    },
    "schema diff": {"fmt": _REPORT_FORMAT},
    "redact": {
        "output": "Where to write the scrubbed recording (NDJSON; .gz compresses; - is stdout).",
        "pseudonymise": "Also replace UUIDs, request ids, IP addresses, user/project/domain "
        "ids and names and host names by consistent keyed pseudonyms of the same shape.",
        "seed": "Key the pseudonyms with S: the same seed gives the same output (default: "
        "a random key, never shown).",
        "redact_keys": _REDACT_KEY,
    },
}
