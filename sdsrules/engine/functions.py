"""The few checks that need arithmetic, as named functions a rule refers to (``template: function``).

Each takes (view, rule, check, trigger index) and yields Facts, like the templates in ``semantics.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from ..calendar import birthday
from ..workflow import money
from .caseview import CaseView, Fact
from .rules import Check, Rule


def _days(delta: timedelta) -> str:
    return f"{delta.days} day{'s' if delta.days != 1 else ''}"


def _role(role: str) -> str:
    return role.replace("_", " ")


def _a(words: str) -> str:
    return ("an " if words[:1] in "aeiou" else "a ") + words


def _limits(value) -> str:
    return ", ".join(f"{_role(r)} {money(x)}" for r, x in value.items())


def within_delegated_limit(view: CaseView, rule: Rule, check: Check, i: int) -> Iterator[Fact]:
    """SDS-BUD-01: the weekly amount approved must not exceed the approver role's delegated limit that day."""
    ev = view.events[i]
    pv = view.param("delegated_limits", ev.day)
    role = ev.attrs["approver_role"]
    limit = pv.value.get(role)
    amount = ev.weekly_amount
    if limit is not None and amount <= limit:
        yield Fact(rule, check, i, "ok", ev.day, params=(pv,), evidence=((i, "trigger"),))
        return
    if limit is None:
        detail = (f"{_a(_role(role)).capitalize()} approved {money(amount)} a week on {ev.said}, but the scheme of "
                  f"delegation gives that role no authority to approve budgets (limits a week: {_limits(pv.value)}).")
        expected = f"approval by a role with delegated authority ({_limits(pv.value)})"
    else:
        detail = (f"{_a(_role(role)).capitalize()} approved {money(amount)} a week on {ev.said}, above the "
                  f"{money(limit)} a week that role may approve.")
        expected = f"at most {money(limit)} a week for a {_role(role)}"
    yield Fact(rule, check, i, "breach", ev.day, detail=detail, expected=expected,
               actual=f"{money(amount)} a week by a {_role(role)}", params=(pv,), evidence=((i, "trigger"),))


def eligibility_matches_criteria(view: CaseView, rule: Rule, check: Check, i: int) -> Iterator[Fact]:
    """SDS-ELG-05: eligible exactly when the band is one the council funds that day."""
    ev = view.events[i]
    pv = view.param("eligible_bands", ev.day)
    band, eligible = ev.attrs["band"], ev.attrs["eligible"]
    should = band in pv.value
    if eligible == should:
        yield Fact(rule, check, i, "ok", ev.day, params=(pv,), evidence=((i, "trigger"),))
        return
    verdict = "eligible" if eligible else "not eligible"
    yield Fact(rule, check, i, "breach", ev.day, params=(pv,), evidence=((i, "trigger"),),
               detail=(f"On {ev.said} the person was found {verdict} with needs in the {band} band, but the local "
                       f"criteria fund the {' and '.join(pv.value)} band{'s' if len(pv.value) != 1 else ''}; "
                       f"no reason for the departure was recorded."),
               expected="eligible" if should else "not eligible", actual=verdict)


DISCRETIONARY = {"short_term", "significant_risk", "not_eligible"}


def all_options_offered(view: CaseView, rule: Rule, check: Check, i: int) -> Iterator[Fact]:
    """SDS-OPT-01: before support starts, the options offered in the episode cover 1 to 4, unless excepted."""
    ev = view.events[i]
    offered: set[int] = set()
    need = {1, 2, 3, 4}
    note = ""
    for k in view.episode_range(i):
        e = view.events[k]
        if e.activity == "options_offered":
            offered |= set(e.attrs["options"])
        elif e.activity == "options_exception":
            reason = e.attrs["reason"]
            if reason in DISCRETIONARY:
                yield Fact(rule, check, i, "excused", ev.day, evidence=((i, "trigger"), (k, "excused by")))
                return
            if reason == "dp_ineligible":
                if e.attrs.get("written_reasons") is True:
                    need = {2, 3, 4}
                else:
                    note = " A direct payment was ruled out but no written reasons were recorded."
    missing = sorted(need - offered)
    if not missing:
        yield Fact(rule, check, i, "ok", ev.day, evidence=((i, "trigger"),))
        return
    shown = ", ".join(map(str, missing))
    yield Fact(rule, check, i, "breach", ev.day, evidence=((i, "trigger"),),
               detail=(f"Support started on {ev.said} but option{'s' if len(missing) > 1 else ''} {shown} "
                       f"had not been offered.{note}"),
               expected="options " + ", ".join(map(str, sorted(need))) + " offered",
               actual="offered: " + (", ".join(map(str, sorted(offered))) or "none"))


def option_as_chosen(view: CaseView, rule: Rule, check: Check, i: int) -> Iterator[Fact]:
    """SDS-OPT-02: support starts under the option the person chose (or option 3 for a deemed choice)."""
    ev = view.events[i]
    started = ev.attrs["option"]
    k = view.latest_before({"option_chosen"}, i)
    if k is None:
        yield Fact(rule, check, i, "breach", ev.day, evidence=((i, "trigger"),),
                   detail=f"Support started on {ev.said} under option {started}, but no choice of option was recorded.",
                   expected="a recorded choice of option", actual=f"option {started}, no choice")
        return
    chosen = view.events[k]
    option, by = chosen.attrs["option"], chosen.attrs.get("chosen_by")
    if by == "deemed":  # spec 1.1: the authority arranges the support where the person does not choose
        option = 3
    if started == option:
        yield Fact(rule, check, i, "ok", ev.day, evidence=((i, "trigger"), (k, "choice")))
        return
    chose = (f"the choice recorded on {chosen.said} was deemed, which means option 3 (the council arranges the "
             f"support)" if by == "deemed" else f"option {option} was chosen on {chosen.said}")
    yield Fact(rule, check, i, "breach", ev.day, evidence=((i, "trigger"), (k, "choice")),
               detail=f"Support started on {ev.said} under option {started}, but {chose}.",
               expected=f"option {option}" + (" (a deemed choice)" if by == "deemed" else ""),
               actual=f"option {started}")


def dp_financial_reviews(view: CaseView, rule: Rule, check: Check, i: int) -> Iterator[Fact]:
    """SDS-REV-03: direct payment financial reviews every 3 months while the last fell in the first year,
    then every 12 months; ends when support ends or the case closes."""
    start = view.events[i]
    first_period = view.param("dp_financial_review_first_period", start.day)
    prev_day, prev_k = start.day, i
    n = len(view.events)
    k = i + 1
    while True:
        early = prev_day < first_period.value.after(start.day)
        pv = view.param("dp_financial_review_early" if early else "dp_financial_review_interval", prev_day)
        due = pv.value.after(prev_day)
        params = (pv, first_period)
        period = f"{'within' if early else 'after'} the first {first_period.value} of the direct payment"
        what = f"{pv.value} after the {'start' if prev_k == i else 'review'} of {view.events[prev_k].said}, {period}"
        nxt = None
        while k < n:
            a = view.events[k].activity
            if a == "financial_review_completed" or a in ("support_ended", "case_closed"):
                nxt = k
                break
            k += 1
        if nxt is None:
            if view.as_of > due:
                yield Fact(rule, check, i, "overdue", due + timedelta(days=1), due=due, params=params,
                           detail=f"A financial review was due by {due} ({what}) and had not happened by {view.as_of}.",
                           expected=f"financial review by {due}", actual=f"none by {view.as_of}",
                           evidence=((i, "trigger"), (prev_k, "previous")) if prev_k != i else ((i, "trigger"),))
            else:
                yield Fact(rule, check, i, "open", start.day, due=due, params=params,
                           detail=f"The next direct payment financial review is due by {due} ({what}).",
                           evidence=((i, "trigger"),))
            return
        e = view.events[nxt]
        if e.activity != "financial_review_completed":
            if e.day > due:
                yield Fact(rule, check, i, "overdue", due + timedelta(days=1), due=due, params=params,
                           detail=(f"A financial review was due by {due} ({what}) and had not happened when the "
                                   f"{e.activity.replace('_', ' ')} of {e.said} ended the direct payment."),
                           expected=f"financial review by {due}", actual=f"none by {e.day}",
                           evidence=((i, "trigger"), (nxt, "ended by")))
            return
        if e.day > due:
            yield Fact(rule, check, i, "late", e.day, due=due, params=params,
                       detail=f"A financial review was due by {due} ({what}) and happened on {e.said}, "
                              f"{_days(e.day - due)} late.",
                       expected=f"financial review by {due}", actual=f"on {e.day}",
                       evidence=((i, "trigger"), (nxt, "late")))
        prev_day, prev_k = e.day, nxt
        k = nxt + 1


def _birthday(view: CaseView, i: int, age_at: int) -> tuple[date | None, str]:
    """The date the person turns ``age_at``, from date_of_birth, else the latest date consistent with the
    age recorded at referral (so nobody is judged late on a guess). Birthdays follow events.md: someone born on
    29 February attains an age on 1 March in a common year."""
    for k in range(i, -1, -1):
        e = view.events[k]
        if e.activity != "referral_received":
            continue
        dob = e.attrs.get("date_of_birth")
        if dob:
            return birthday(date.fromisoformat(dob), age_at), "date of birth"
        age = e.attrs.get("age")
        if age is not None:
            return birthday(e.day, age_at - age), f"age {age} at referral on {e.said}"
    return None, ""


def _supported_periods(view: CaseView, i: int) -> list[tuple[int, int | None]]:
    """(start, end) indexes of each spell of support in ``i``'s episode from ``i`` on; end None: still running."""
    periods: list[tuple[int, int | None]] = []
    begun: int | None = None
    for k in range(i, view.episode_end(i)):
        a = view.events[k].activity
        if a == "support_started" and begun is None:
            begun = k
        elif a in ("support_ended", "case_closed") and begun is not None:
            periods.append((begun, k))
            begun = None
    if begun is not None:
        periods.append((begun, None))
    return periods


def transition_planning(view: CaseView, rule: Rule, check: Check, i: int) -> Iterator[Fact]:
    """SDS-TRN-01: a person aged 14 to 17 at any time while supported needs transition planning by their 15th
    birthday or 3 months after that spell of support started, whichever is later, and always before the transfer
    to adult services. Judged within the episode of the first support (spec 1.1)."""
    start = view.events[i]
    plan_age = view.param("transition_plan_age", start.day)
    adult = view.param("adult_age", start.day)
    after = view.param("transition_after_support", start.day)
    from_age = view.param("transition_from_age", start.day)
    b15, basis = _birthday(view, i, int(plan_age.value))
    b18, _ = _birthday(view, i, int(adult.value))
    b14, _ = _birthday(view, i, int(from_age.value))
    if b15 is None or b18 is None or b14 is None:
        return  # no age recorded: the duty cannot be known to apply
    young = [(s, e) for s, e in _supported_periods(view, i)
             if view.days[s] < b18 and (e is None or view.days[e] > b14)]
    if not young:
        return  # never 14 to 17 while supported: the duty does not apply
    params = (plan_age, after, from_age, adult)
    who = f"a person aged {int(from_age.value)} or over and under {int(adult.value)} while supported"
    first, stop = view.episode_start(i), view.episode_end(i)
    plans = [k for k in view.indexes_of(frozenset({"transition_planning_started"})) if first <= k < stop]
    transfers = [k for k in view.indexes_of(frozenset({"transferred_to_adult_services"})) if first <= k < stop]
    first_plan = plans[0] if plans else None
    first_transfer = transfers[0] if transfers else None
    if first_transfer is not None and (first_plan is None or first_plan > first_transfer):
        t = view.events[first_transfer]
        yield Fact(rule, check, i, "missing", t.day, params=params,
                   detail=(f"The transfer to adult services on {t.said} happened with no transition planning before it "
                           f"(planning is due for {who}, by the {int(plan_age.value)}th birthday or {after.value} "
                           f"after support starts, whichever is later, and always before the transfer)."),
                   expected="transition planning before the transfer to adult services",
                   actual="no transition planning before the transfer",
                   evidence=((i, "trigger"), (first_transfer, "deadline event")))
        return
    for s, e in young:
        began = view.events[s]
        due = max(b15, after.value.after(began.day))
        why = (f"for {who}: the later of the {int(plan_age.value)}th birthday, from {basis}, and {after.value} "
               f"after support started on {began.said}")
        if first_plan is not None and view.days[first_plan] <= due:
            yield Fact(rule, check, i, "met", began.day, due=due, params=params, evidence=((s, "trigger"),))
            return
        if e is not None and view.days[e] <= due:
            continue  # this spell of support ended before planning fell due; a later spell may still need it
        if first_plan is not None and (e is None or first_plan < e):
            p = view.events[first_plan]
            yield Fact(rule, check, i, "late", p.day, due=due, params=params,
                       detail=f"Transition planning was due by {due} ({why}) and started on {p.said}.",
                       expected=f"transition planning by {due}", actual=f"started on {p.day}",
                       evidence=((s, "trigger"), (first_plan, "late")))
            return
        if e is not None:
            end = view.events[e]
            yield Fact(rule, check, i, "overdue", due + timedelta(days=1), due=due, params=params,
                       detail=(f"Transition planning was due by {due} ({why}) and had not started when support "
                               f"ended on {end.said}."),
                       expected=f"transition planning by {due}", actual=f"no transition planning by {end.day}",
                       evidence=((s, "trigger"), (e, "ended by")))
            return
        if view.as_of > due:
            yield Fact(rule, check, i, "overdue", due + timedelta(days=1), due=due, params=params,
                       detail=f"Transition planning was due by {due} ({why}) and had not started by {view.as_of}.",
                       expected=f"transition planning by {due}", actual=f"no transition planning by {view.as_of}",
                       evidence=((s, "trigger"),))
        else:
            yield Fact(rule, check, i, "open", began.day, due=due, params=params,
                       detail=f"Transition planning is due by {due} ({why}).", evidence=((s, "trigger"),))
        return
    yield Fact(rule, check, i, "lapsed", start.day, params=params, evidence=((i, "trigger"),))


#: every named function a rule can use (``rules.FUNCTION_NAMES`` lists the same names for loading)
FUNCTIONS = {
    "within_delegated_limit": within_delegated_limit,
    "eligibility_matches_criteria": eligibility_matches_criteria,
    "all_options_offered": all_options_offered,
    "option_as_chosen": option_as_chosen,
    "dp_financial_reviews": dp_financial_reviews,
    "transition_planning": transition_planning,
}
