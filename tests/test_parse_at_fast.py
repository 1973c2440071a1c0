"""``events.parse_at``'s shortcut for "YYYY-MM-DDTHH:MM:SS" (the day and the time of day parsed apart, each once)
against the full parse (``_parse_at``): the same value for every text it takes, and every other text left to the
full parse, which names what is wrong."""

from __future__ import annotations

import contextlib

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sdsrules import events
from sdsrules.events import parse_at

_VALID = st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0"))
_CHARS = "0123456789-:T Z+W.x"


@st.composite
def near_miss(draw) -> str:
    """A valid value with a few of its characters changed (a digit, a separator, a week date...)."""
    text = list(draw(_VALID))
    for _ in range(draw(st.integers(0, 3))):
        text[draw(st.integers(0, 18))] = draw(st.sampled_from(_CHARS))
    return "".join(text)


def _full(text: str):
    try:
        return events._parse_at(text)
    except ValueError as e:
        return str(e)


def _fast(text: str):
    events._ATS.clear()  # not an earlier answer from the cache: the shortcut itself
    try:
        return parse_at(text)
    except ValueError as e:
        return str(e)


@settings(max_examples=600, deadline=None)
@given(_VALID | near_miss())
@example("2024-02-30T10:00:00")
@example("2024-02-29T24:00:00")
@example("2023-12-31T23:59:60")
@example("2023-W27-1T10:00:00")
@example("0001-01-01T00:00:00")
@example("9999-12-31T23:59:59")
@example("2024-03-31T01:30:00")  # the hour the clocks skip in London
@example("2024-10-27T01:30:00")  # and the one they repeat
@example("2024-01-01 10:00:00")
@example("2024-01-01T10:00:0Z")
def test_the_shortcut_gives_what_the_full_parse_gives(text):
    got, want = _fast(text), _full(text)
    assert got == want
    if not isinstance(want, str):
        # the same zone (London itself, not an equal copy: Event.when and said test it by identity), or an equal
        # fixed offset (each parse makes its own), and the same fold
        assert got[0].tzinfo == want[0].tzinfo and got[0].fold == want[0].fold
        assert (got[0].tzinfo is events.LONDON) == (want[0].tzinfo is events.LONDON)


def test_the_shortcut_is_taken_for_the_common_form():
    events._ATS.clear()
    assert events._plain_local("2024-05-01T09:30:00") == events._parse_at("2024-05-01T09:30:00")
    assert events._plain_local("2024-05-01 09:30:00") is None  # anything else: the full parse
    assert events._plain_local("2024-02-30T09:30:00") is None


@settings(max_examples=600, deadline=None)
@given(_VALID | near_miss(), st.booleans())
@example("2024-02-30T10:00:00", True)
@example("2024-10-27T01:30:00", False)
@example("2024-01-01T10:00:0Z", True)
def test_the_fast_decoder_reads_at_as_the_full_parse_does(text, keep_order):
    """The JSON Lines fast decoder has the shortcut inline: the same event (or the same rejection) as the slow path,
    whose ``at`` is the full parse's."""
    from sdsrules.readers.fast import decode_slow, line_decoder

    with contextlib.suppress(ValueError):  # the day and time known already (as mostly in a log): the shortcut
        parse_at(text)
    line = f'{{"case":"C1","at":"{text}","activity":"signposted"}}'.encode()
    got, want = line_decoder(keep_order)(line, "f", 1, 0), decode_slow(line, "f", 1, 0)
    assert type(got) is type(want)
    if isinstance(want, events.Rejection):
        assert got == want
    else:
        assert (got.at, got.day, got.date_only) == (want.at, want.day, want.date_only)
        assert got.at.tzinfo is want.at.tzinfo and got.at.fold == want.at.fold


_ZONES = st.sampled_from(["Europe/London", "America/New_York", "Australia/Lord_Howe", "UTC"])


@given(st.datetimes(min_value=events.datetime(1900, 1, 2), max_value=events.datetime(2199, 12, 30),
                    timezones=st.one_of(st.just(events.LONDON), st.timezones())),
       st.booleans(), st.one_of(st.none(), _ZONES))
@settings(max_examples=400, deadline=None)
def test_when_is_the_local_time_to_the_minute(at, fold, zone_name):
    """``Event.when`` (a local time shown as it is, anything else converted) against its definition: ``at`` in the
    design's zone, to the minute; in gaps and folds of daylight saving too."""
    from zoneinfo import ZoneInfo

    at = at.replace(fold=int(fold))
    zone = ZoneInfo(zone_name) if zone_name and zone_name != "Europe/London" else None
    ev = events.Event("e", "c", at, at.date(), "referral_received", {}, zone=zone)
    assert ev.when == at.astimezone(zone or events.LONDON).strftime("%Y-%m-%dT%H:%M")
