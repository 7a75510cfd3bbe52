"""Norwegian, nynorsk and English dates in chat: examples, then properties over many dates."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.dates import (
    NO_SUCH_DAY,
    PAST,
    TOO_FAR,
    check_range,
    latest_day,
    parse_date,
    read_date,
)

TODAY = dt.date(2027, 1, 12)  # a Tuesday
NB_MONTHS = "januar februar mars april mai juni juli august september oktober november desember"
EN_MONTHS = "January February March April May June July August September October November December"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12. januar", dt.date(2027, 1, 12)),  # today counts
        ("13. januar", dt.date(2027, 1, 13)),
        ("11. januar", dt.date(2028, 1, 11)),  # already passed this year: next year
        ("12. jan 2027", dt.date(2027, 1, 12)),
        ("3. mars 2027", dt.date(2027, 3, 3)),
        ("12 January", dt.date(2027, 1, 12)),
        ("March 5, 2027", dt.date(2027, 3, 5)),
        ("5th of March", dt.date(2027, 3, 5)),
        ("neste tirsdag", dt.date(2027, 1, 19)),
        ("neste tysdag", dt.date(2027, 1, 19)),
        ("next tuesday", dt.date(2027, 1, 19)),
        ("tirsdag", dt.date(2027, 1, 19)),  # a weekday is never today
        ("fredag", dt.date(2027, 1, 15)),
        ("på fredag", dt.date(2027, 1, 15)),
        ("laurdag", dt.date(2027, 1, 16)),
        ("om to uker", dt.date(2027, 1, 26)),
        ("om to veker", dt.date(2027, 1, 26)),
        ("om 3 dager", dt.date(2027, 1, 15)),
        ("om ei veke", dt.date(2027, 1, 19)),
        ("in two weeks", dt.date(2027, 1, 26)),
        ("i dag", TODAY),
        ("i morgen", dt.date(2027, 1, 13)),
        ("i morgon", dt.date(2027, 1, 13)),
        ("tomorrow", dt.date(2027, 1, 13)),
        ("i overmorgen", dt.date(2027, 1, 14)),
        ("12.1.", dt.date(2027, 1, 12)),
        ("12/1", dt.date(2027, 1, 12)),
        ("1.2", dt.date(2027, 2, 1)),
        ("12.03.2027", dt.date(2027, 3, 12)),
        ("12.03.27", dt.date(2027, 3, 12)),
        ("2027-03-12", dt.date(2027, 3, 12)),
        ("I MORGEN", dt.date(2027, 1, 13)),
    ],
)
def test_dates_as_people_write_them(text: str, expected: dt.date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31.02", NO_SUCH_DAY),
        ("30. februar 2027", NO_SUCH_DAY),
        ("2027-02-30", NO_SUCH_DAY),
        ("32. januar", NO_SUCH_DAY),
        ("29.02.2027", NO_SUCH_DAY),
        ("11.01.2027", PAST),
        ("2026-12-31", PAST),
        ("31.12.9999", TOO_FAR),
        ("13.01.2029", TOO_FAR),
        ("om 800 dager", TOO_FAR),
        ("Fauske", "not_a_date"),
        ("10.30", "not_a_date"),  # a time, not a date
        ("12.03.99999", "not_a_date"),
        ("neste", "not_a_date"),
        ("", "not_a_date"),
    ],
)
def test_impossible_past_and_far_dates_give_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date(text, TODAY)
    assert str(caught.value) == reason


def test_a_date_says_how_many_words_it_used_so_time_and_place_can_follow() -> None:
    read = read_date(["neste", "tirsdag", "10:00", "Fauske"], TODAY)
    assert read is not None and read.used == 2 and read.day == dt.date(2027, 1, 19)
    read = read_date(["12.", "jan", "2027", "kl.", "9"], TODAY)
    assert read is not None and read.used == 3
    read = read_date(["12.", "jan", "9:00"], TODAY)
    assert read is not None and read.used == 2 and read.day == dt.date(2027, 1, 12)
    assert read_date(["Samling", "2:", "Turnus"], TODAY) is None
    assert read_date(["man", "trenger"], TODAY) is None  # "man" is not Monday


def test_the_last_plannable_day_is_two_years_ahead_even_from_29_february() -> None:
    assert latest_day(dt.date(2028, 2, 29)) == dt.date(2030, 2, 28)
    assert check_range(latest_day(TODAY), TODAY) is None
    assert check_range(latest_day(TODAY) + dt.timedelta(days=1), TODAY) == TOO_FAR
    assert check_range(dt.date.max, TODAY) == TOO_FAR
    assert check_range(dt.date.min, TODAY) == PAST


todays = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))


@st.composite
def today_and_day(draw: st.DrawFn) -> tuple[dt.date, dt.date]:
    today = draw(todays)
    day = draw(st.dates(min_value=today, max_value=latest_day(today)))
    return today, day


@settings(deadline=None)  # a loaded machine must not fail a correct property
@given(today_and_day(), st.sampled_from(["nb", "en", "dots", "slash", "iso", "short"]))
def test_every_written_form_of_a_day_in_range_reads_back_as_that_day(pair, form) -> None:
    today, day = pair
    text = {
        "nb": f"{day.day}. {NB_MONTHS.split()[day.month - 1]} {day.year}",
        "en": f"{day.day} {EN_MONTHS.split()[day.month - 1]} {day.year}",
        "dots": f"{day.day:02}.{day.month:02}.{day.year}",
        "slash": f"{day.day}/{day.month}/{day.year}",
        "iso": day.isoformat(),
        "short": f"{day.day}. {NB_MONTHS.split()[day.month - 1][:3]} {day.year}",
    }[form]
    assert parse_date(text, today) == day


@settings(deadline=None)  # a loaded machine must not fail a correct property
@given(today_and_day())
def test_a_day_without_a_year_is_the_next_such_day(pair) -> None:
    today, day = pair
    if (day.month, day.day) == (2, 29):
        return
    read = read_date([f"{day.day}.{day.month}."], today)
    assert read is not None and read.day is not None
    assert (read.day.month, read.day.day) == (day.month, day.day)
    assert today <= read.day < today + dt.timedelta(days=366)


@settings(deadline=None)  # a loaded machine must not fail a correct property
@given(todays, st.integers(0, 60), st.sampled_from(["dager", "dagar", "days", "uker", "veker"]))
def test_in_n_days_or_weeks(today: dt.date, n: int, unit: str) -> None:
    prefix = "in" if unit == "days" else "om"
    days = n * (7 if unit in ("uker", "veker") else 1)
    read = read_date([prefix, str(n), unit], today)
    assert read is not None and read.day == today + dt.timedelta(days=days) and read.used == 3


WEEKDAY_WORDS = {"mandag": 0, "tysdag": 1, "onsdag": 2, "thursday": 3, "fredag": 4, "laurdag": 5}


@settings(deadline=None)  # a loaded machine must not fail a correct property
@given(todays, st.sampled_from(sorted(WEEKDAY_WORDS)))
def test_a_weekday_is_the_next_such_day_within_a_week(today: dt.date, word: str) -> None:
    for words in ([word], ["neste", word], ["next", word]):
        read = read_date(words, today)
        assert read is not None and read.day is not None and read.used == len(words)
        assert 1 <= (read.day - today).days <= 7
        assert read.day.weekday() == WEEKDAY_WORDS[word]


@settings(deadline=None)  # a loaded machine must not fail a correct property
@given(st.lists(st.text(max_size=12), max_size=5), todays)
def test_any_text_gives_a_date_a_reason_or_nothing_but_never_crashes(words, today) -> None:
    read = read_date(words, today)
    if read is not None:
        assert 1 <= read.used <= len(" ".join(words).split())
        assert (read.day is None) == (read.problem is not None)
        if read.day is not None:
            check_range(read.day, today)
    try:
        parse_date(" ".join(words), today)
    except ValueError as error:
        assert str(error) in {"not_a_date", NO_SUCH_DAY, PAST, TOO_FAR}
