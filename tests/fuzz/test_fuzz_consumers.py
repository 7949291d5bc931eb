"""The fast path for plain JSONPath fields gives what jsonpath-rw's own ``find`` gives.

``FUZZ_EXAMPLES`` raises the number of examples (``FUZZ_EXAMPLES=2000 pytest tests/fuzz``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osreplay.consumers.fields import compile_path, plain_chains, plain_values

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = ["a", "b", "payload", "x_1", "0"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(alphabet="ab0", max_size=2),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(NAMES), children, max_size=4)
    ),
    max_leaves=12,
)
chain = st.lists(st.sampled_from(NAMES[:4]), min_size=1, max_size=4).map(".".join)
expressions = st.lists(
    st.tuples(st.booleans(), chain).map(lambda pair: ("$." if pair[0] else "") + pair[1]),
    min_size=1,
    max_size=3,
).map(lambda paths: paths[0] if len(paths) == 1 else "|".join(f"({p})" for p in paths))


@FUZZ
@given(expression=expressions, body=json_values)
def test_plain_fields_find_what_jsonpath_rw_finds(expression, body):
    parsed = compile_path(expression)
    chains = plain_chains(parsed)
    assert chains is not None, expression
    assert plain_values(chains, body) == [match.value for match in parsed.find(body)]


def test_other_expressions_take_jsonpath_rw_s_own_path():
    for expression in ("payload.*", "payload[0]", "payload..a", "a.`len`", "payload.$", "$"):
        assert plain_chains(compile_path(expression)) is None, expression
