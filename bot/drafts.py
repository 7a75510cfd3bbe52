"""The guided form: `/samling ny` or `/oppgave ny` without the whole one-liner asks the leader
for what is missing, one thing at a time, and saves only at «Lagre».

The dialogue's state is one row (storage/drafts.py): the kind, the step it waits for and the
answers so far; a restart continues at the same question, a day later the draft is gone.
Every answer is checked with the one-liner's own checks (bot/network_commands.py) and bad
input gets the same sentence, then the question again. Buttons («Hopp over», a team,
«Lagre», «Avbryt») are one-time prompts tied to the leader and to this draft and step
(`ref` = "draft id:step"), so a forged, replayed, foreign or outdated press changes nothing.

Typed text and an open pulse question: whichever was asked last gets the text
(`DraftText.answer`, called by bot/routing.py). A free-text pulse question, quote consent or
/slett question asked after the draft's question takes the text; once none is open any
more, the draft asks its question again (both in `DraftText.answer`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot import network as net
from bot import network_commands as cmds
from bot import network_tasks as tasks_change
from bot.engine_base import typed_yes_no
from bot.i18n import t
from bot.ports import Choice, OutgoingMessage, Reply
from storage import drafts as store
from storage import prompts
from storage.models import Person, Prompt
from storage.network_models import Draft
from surveys.network import local_day, parse_when, split_args, starts_quoted

if TYPE_CHECKING:
    from bot.conversation import Context, Conversation, Handler

PURPOSE = "draft"
STEPS = {
    "gathering": ("title", "when", "place", "theme", "programme", "confirm"),
    "task": ("title", "team", "due", "description", "confirm"),
}
OPTIONAL = {"theme", "programme", "description"}
MAX_TEXT = {"title": cmds.MAX_TITLE, "place": 300, "theme": 300, "programme": 4000,
            "description": 4000}  # fmt: skip
CANCEL_WORDS = {"avbryt", "cancel", "stopp", "stop", "avslutt", "quit"}
SKIP_WORDS = {"hopp over", "hopp", "skip", "-", "ingen", "ingenting", "none", "nothing"}
DEFAULT_WORDS = {"standard", "default", "ok"}
SAVE_WORDS = {"lagre", "save"}
ALL_WORDS = {*cmds.ALL, "alle lag", "all teams", "everyone", "everybody"}  # one-liner +
BACK_WORDS = {"tilbake", "back", "angre", "undo"}
KEYS = {"when": ("starts", "ends", "end_given"), "place": ("place", "link")}  # else: the step


def _words(text: str) -> str:
    return " ".join(text.casefold().replace("«", "").replace("»", "").split())


def _actor(person: Person) -> cmds.Actor:
    return cmds.Actor(person, person.language)


# --------------------------------------------------------------------------- asking


def _preview(session: Session, draft: Draft, lang: str, tz: dt.tzinfo) -> str:
    """The draft as the card it will become, before anything is stored."""
    data = draft.data
    if draft.kind == "gathering":
        starts = dt.datetime.fromisoformat(data["starts"])
        ends = dt.datetime.fromisoformat(data["ends"])
        when = (
            net.fmt_span(starts, ends, tz, lang)
            if data.get("end_given")
            else net.fmt_when(starts, tz, lang)
        )
        lines = [
            t(lang, "walk_quoted", text=data["title"]),
            when,
            data.get("place") or data.get("link") or "–",
        ]
        if data.get("link") and data.get("place"):
            lines.append(data["link"])
        if data.get("theme"):
            lines.append(t(lang, "net_g_theme", theme=data["theme"]))
        if programme := data.get("programme"):  # the card stays one chat message
            short = programme if len(programme) <= 300 else programme[:299] + "…"
            lines.append(t(lang, "net_g_programme", programme=short))
        return t(lang, "draft_g_preview", card="\n".join(lines))
    team = data.get("team") or t(lang, "net_all_teams")
    due = net.fmt_day(dt.date.fromisoformat(data["due"]), lang)
    lines = [t(lang, "walk_quoted", text=data["title"]), t(lang, "draft_t_card", who=team, due=due)]
    if data.get("description"):
        lines.append(data["description"])
    return t(lang, "draft_t_preview", card="\n".join(lines))


def _question(session: Session, draft: Draft, lang: str, now: dt.datetime, tz: dt.tzinfo) -> str:
    step, kind = draft.step, draft.kind[0]
    if step == "confirm":
        return _preview(session, draft, lang, tz)
    if step == "when":
        return t(lang, "draft_g_ask_when", example=t(lang, "net_date_example"))
    if step == "team":
        return t(lang, "draft_t_ask_team", teams=", ".join(net.teams(session)))
    if step == "due":
        due, before = tasks_change.default_due(session, now, tz)
        day = net.fmt_day(due, lang)
        said = (
            t(lang, "draft_due_gathering", due=day, title=before)
            if before is not None
            else t(lang, "draft_due_days", due=day, days=tasks_change.NO_GATHERING_DAYS)
        )
        return t(lang, "draft_t_ask_due", default=said)
    return t(lang, f"draft_{kind}_ask_{step}")


def question(
    session: Session, person: Person, draft: Draft, now: dt.datetime, tz: dt.tzinfo
) -> OutgoingMessage:
    """The question the draft waits for, with its buttons; older draft buttons stop working."""
    lang = person.language
    prompts.retire(session, person.id, PURPOSE, now)
    token = prompts.create(session, person.id, PURPOSE, now, ref=f"{draft.id}:{draft.step}")
    draft.asked_at = now
    choices: list[Choice] = []
    if draft.step == "team":  # a press names the team by its place in the list it saw
        shown = net.teams(session)[:20]
        _put(draft, shown_teams="\n".join(shown))
        for index, team in enumerate(shown):
            choices.append(Choice(team, f"{token}:t{index}"))
        choices.append(Choice(t(lang, "draft_btn_all"), f"{token}:all"))
    if draft.step == "due":
        choices.append(Choice(t(lang, "draft_btn_default"), f"{token}:default"))
    if draft.step in OPTIONAL:
        choices.append(Choice(t(lang, "draft_btn_skip"), f"{token}:skip"))
    if draft.step == "confirm":
        choices.append(Choice(t(lang, "draft_btn_save"), f"{token}:save"))
    choices.append(Choice(t(lang, "draft_btn_cancel"), f"{token}:cancel"))
    return OutgoingMessage(_question(session, draft, lang, now, tz), tuple(choices))


def start(
    session: Session, person: Person, kind: str, title: str, now: dt.datetime, tz: dt.tzinfo
) -> Reply:
    """Begin a draft (replacing any open one, which is said); `title` may be given already."""
    actor = _actor(person)
    if kind == "task" and not net.teams(session):
        return Reply([OutgoingMessage(t(actor.lang, "net_no_teams"))])
    old = store.open_draft(session, person.id, now)
    said: list[OutgoingMessage] = []
    if old is not None:
        what = old.data.get("title") or t(actor.lang, "draft_untitled")
        said.append(OutgoingMessage(t(actor.lang, "draft_replaced", title=what)))
    draft, _ = store.start(session, person.id, kind, "title", {}, now)
    said.append(OutgoingMessage(t(actor.lang, f"draft_{kind[0]}_start")))
    if title:
        return Reply([*said, *_step(session, person, draft, title, now, tz)])
    return Reply([*said, question(session, person, draft, now, tz)])


# --------------------------------------------------------------------------- answering


def _next(draft: Draft) -> None:
    """The first question not answered yet (the card when all are)."""
    answered = set(draft.data)
    draft.step = next(
        (s for s in STEPS[draft.kind] if KEYS.get(s, (s,))[0] not in answered), "confirm"
    )


def _back(draft: Draft) -> None:
    """One step back: the answer before the current question is asked for again."""
    steps = STEPS[draft.kind]
    before = steps[max(steps.index(draft.step) - 1, 0)]
    draft.step = before
    gone = KEYS.get(before, (before,))
    draft.data = {k: v for k, v in draft.data.items() if k not in gone}


def _put(draft: Draft, **values: str) -> None:
    draft.data = {**draft.data, **{k: v for k, v in values.items() if v is not None}}


def _step(
    session: Session, person: Person, draft: Draft, text: str, now: dt.datetime, tz: dt.tzinfo
) -> list[OutgoingMessage]:
    """Take one typed answer (or a button's meaning) for the draft's step; what to say next."""
    actor, lang, step = _actor(person), person.language, draft.step
    said = _words(text)
    if said in CANCEL_WORDS or (step == "confirm" and typed_yes_no(text) == "no"):
        return cancel(session, person, draft, now)
    if said in BACK_WORDS:
        _back(draft)
        return [question(session, person, draft, now, tz)]
    if step == "confirm":
        if said in SAVE_WORDS or typed_yes_no(text) == "yes":
            return save(session, person, draft, now, tz)
        return [OutgoingMessage(t(lang, "draft_confirm_how")), question(session, person, draft,
                                                                       now, tz)]  # fmt: skip
    problem = _take(session, actor, draft, step, text, said, now, tz)
    if problem is not None:
        return [OutgoingMessage(problem), question(session, person, draft, now, tz)]
    _next(draft)
    return [question(session, person, draft, now, tz)]


def _take(
    session: Session,
    actor: cmds.Actor,
    draft: Draft,
    step: str,
    text: str,
    said: str,
    now: dt.datetime,
    tz: dt.tzinfo,
) -> str | None:
    """Store the answer to `step` in the draft, or say why it cannot be used."""
    lang = actor.lang
    value = " ".join(text.split())
    if step in OPTIONAL and said in SKIP_WORDS:
        _put(draft, **{step: ""})
        return None
    if step == "title":
        problem = cmds._title_problem(actor, value)
        if problem is None:
            _put(draft, title=value)
        return problem
    if step in MAX_TEXT and len(value) > MAX_TEXT[step]:
        return t(lang, "draft_too_long", max=MAX_TEXT[step])
    if not value:
        return t(lang, "draft_empty")
    if step == "when":
        words = value.split()
        checked = cmds.gathering_time(actor, words, now, tz)
        if isinstance(checked, str):
            return checked
        when, starts, ends = checked
        _put(draft, starts=starts.isoformat(), ends=ends.isoformat(),
             end_given="1" if when.until else "")  # fmt: skip
        rest = words[when.used :]
        if rest:  # "12.03.2027 09:00 Bodø": the place came with it
            return _take(session, actor, draft, "place", " ".join(rest), "", now, tz)
        return None
    if step == "place" and parse_when(value.split(), local_day(now, tz)) is not None:
        return _take(session, actor, draft, "when", text, said, now, tz)  # the date corrected
    if step == "place":
        link = next((w for w in value.split() if w.startswith(("http://", "https://"))), "")
        place = " ".join(w for w in value.split() if w != link)
        _put(draft, place=place, link=link[:500])
        return None
    if step == "team":
        team = "" if said in ALL_WORDS else net.resolve_team(session, value)
        if team is None:
            listed = ", ".join(net.teams(session)) or t(lang, "net_no_teams_listed")
            return t(lang, "net_team_unknown", team=value[:60], teams=listed)
        _put(draft, team=team)
        return None
    if step == "due":
        if said in DEFAULT_WORDS:
            due, _ = tasks_change.default_due(session, now, tz)
            _put(draft, due=due.isoformat())
            return None
        return _take_due(actor, draft, value.split(), now, tz)
    _put(draft, **{step: value})  # theme, programme, description
    return None


def _take_due(
    actor: cmds.Actor, draft: Draft, words: list[str], now: dt.datetime, tz: dt.tzinfo
) -> str | None:
    today = local_day(now, tz)
    when = parse_when(words, today)
    if when is not None and when.problem:
        return cmds._date_problem(actor, when, words, today)
    if when is None or when.used != len(words):
        return cmds._bad_date(actor, " ".join(words[:3]))
    if when.day < today:
        return t(actor.lang, "net_due_passed")
    _put(draft, due=when.day.isoformat())
    return None


def cancel(
    session: Session, person: Person, draft: Draft, now: dt.datetime
) -> list[OutgoingMessage]:
    store.drop(session, person.id)
    prompts.retire(session, person.id, PURPOSE, now)
    return [OutgoingMessage(t(person.language, "draft_cancelled"))]


def save(
    session: Session, person: Person, draft: Draft, now: dt.datetime, tz: dt.tzinfo
) -> list[OutgoingMessage]:
    """Store what the draft holds, checked again (a day may have passed since it was typed)."""
    actor, data = _actor(person), draft.data
    if draft.kind == "gathering":
        starts = dt.datetime.fromisoformat(data["starts"])
        if starts <= now:
            draft.step = "when"
            return [OutgoingMessage(t(actor.lang, "net_time_passed")),
                    question(session, person, draft, now, tz)]  # fmt: skip
        said = cmds.save_gathering(
            session, actor, now, tz, data["title"], starts,
            dt.datetime.fromisoformat(data["ends"]), bool(data.get("end_given")),
            data.get("place") or None, data.get("link") or None,
            data.get("theme") or None, data.get("programme") or None,
        )  # fmt: skip
    else:
        due = dt.date.fromisoformat(data["due"])
        if due < local_day(now, tz):
            draft.step = "due"
            return [OutgoingMessage(t(actor.lang, "net_due_passed")),
                    question(session, person, draft, now, tz)]  # fmt: skip
        said, _ = cmds.save_task(
            session, actor, now, tz, data["title"], due, data.get("team") or None,
            data.get("description") or None,
        )  # fmt: skip
    store.drop(session, person.id)
    prompts.retire(session, person.id, PURPOSE, now)
    return [OutgoingMessage(said)]


# --------------------------------------------------------------------------- the ways in

PRESSED = {"skip": "hopp over", "default": "standard", "all": "alle", "save": "lagre",
           "cancel": "avbryt"}  # fmt: skip


def pressed(ctx: Context, prompt: Prompt) -> Reply:
    """A press on a draft's button (the engine checked the token is the leader's own, unused,
    and used it up); a button of another draft or an earlier step changes nothing."""
    lang, tz = ctx.lang, ctx.engine.config.tz
    draft = store.open_draft(ctx.session, ctx.person.id, ctx.now)
    draft_id, _, step = (prompt.ref or "").partition(":")
    if (
        draft is None
        or str(draft.id) != draft_id
        or draft.step != step
        or ctx.person.role not in cmds.LEADERS
    ):
        return Reply(edit=OutgoingMessage(t(lang, "draft_gone")))
    value = ctx.args[0]
    shown = _question(ctx.session, draft, lang, ctx.now, tz)
    if value.startswith("t") and value[1:].isdigit():
        teams = draft.data.get("shown_teams", "").split("\n")
        index = int(value[1:])
        if index >= len(teams):
            return Reply(edit=OutgoingMessage(t(lang, "draft_gone")))
        text, label = teams[index], teams[index]
    elif value in PRESSED:
        text, label = PRESSED[value], t(lang, f"draft_btn_{value}")
    else:
        return Reply(edit=OutgoingMessage(t(lang, "draft_gone")))
    messages = _step(ctx.session, ctx.person, draft, text, ctx.now, tz)
    return Reply(edit=OutgoingMessage(f"{shown}\n→ {label}"), messages=messages)


class DraftText:
    """Typed text for a leader's open draft; bot/routing.py asks it first (see the module's
    docstring for how it shares typed text with an open pulse question)."""

    def __init__(self, engine: Conversation) -> None:
        self.engine = engine

    def waiting(self, session: Session, person: Person, now: dt.datetime) -> bool:
        """A leader's draft is open and asking."""
        return person.role in cmds.LEADERS and store.open_draft(session, person.id, now) is not None

    def answer(
        self,
        session: Session,
        person: Person,
        text: str,
        now: dt.datetime,
        newest_other: Callable[[], dt.datetime | None],
        otherwise: Callable[[], Reply],
    ) -> Reply:
        """The draft's reply; or, with no draft (or not a leader, or a question newer than the
        draft's), `otherwise` — and then the draft's question again once none is open."""
        if person.role not in cmds.LEADERS:
            return otherwise()
        draft = store.open_draft(session, person.id, now)
        if draft is None:
            return otherwise()
        tz = self.engine.config.tz
        other = newest_other()
        if other is None or other <= draft.asked_at:
            return Reply(_step(session, person, draft, text, now, tz))
        reply = otherwise()
        if newest_other() is not None:  # still a question waiting for typed text
            return reply
        back = [OutgoingMessage(t(person.language, "draft_back")),
                question(session, person, draft, now, tz)]  # fmt: skip
        return replace(reply, messages=[*reply.messages, *back])


def form_title(ctx: Context, new_words: tuple[str, ...]) -> str | None:
    """`ny` with nothing after it, or only a title: the title ("" none) for the form; None
    when the words are the one-liner's (a date, `frist`, a team, `alle`, `fra prioritet`),
    which then answers as always."""
    words = split_args(ctx.args)
    if not words or words[0].lower() not in new_words:
        return None
    rest = words[1:]
    if not rest:
        return ""
    if starts_quoted(ctx.args):
        return rest[0] if len(rest) == 1 else None
    today = local_day(ctx.now, ctx.engine.config.tz)
    for i, word in enumerate(rest):
        low = word.lower()
        if low in cmds.DUE_WORDS or low in cmds.ALL or parse_when(rest[i:], today) is not None:
            return None
        if low in ("fra", "frå", "from") or net.resolve_team(ctx.session, word) is not None:
            return None
    return " ".join(rest)


NEW_WORDS = {"gathering": ("ny", "new", "add", "legg"), "task": ("ny", "new", "add")}


def _guided(kind: str, one_liner: Handler) -> Handler:
    """The command's handler, with `ny` (and at most a title) starting the form for a
    leader; everything else, and everyone else, goes to the one-liner as before."""

    def handle(ctx: Context) -> Reply:
        title = form_title(ctx, NEW_WORDS[kind]) if ctx.person.role in cmds.LEADERS else None
        if title is None:
            return one_liner(ctx)
        return start(ctx.session, ctx.person, kind, title, ctx.now, ctx.engine.config.tz)

    return handle


def register(engine: Conversation) -> None:
    """The form in front of `/samling ny` and `/oppgave ny`, its buttons and its share of
    typed text (bot.network_commands registers the commands first)."""
    for kind, name in (("gathering", "samling"), ("task", "oppgave")):
        spec = engine.commands.get(name)
        assert spec is not None, name
        spec.handler = _guided(kind, spec.handler)  # one spec serves every alias
    engine.prompt_handlers[PURPOSE] = pressed
    engine.routing.drafts = DraftText(engine)
