"""Employee commands shared by every transport, in bokmål with English aliases.

Leader-only commands from other features register in the same registry with their roles;
a person without the role gets a clear refusal and nothing changes.
"""

from __future__ import annotations

from bot.background_labels import background_line
from bot.conversation import CommandRegistry, Context
from bot.i18n import LANGUAGES, catalogue, t
from bot.ports import Choice, OutgoingMessage, Reply
from bot.routing import welcome_back
from storage import answers, people, prompts
from storage.models import Prompt
from surveys.roster import ROLES

LEADERS = {"leader"}


def register_employee_commands(registry: CommandRegistry) -> None:
    registry.add(("start",), start)
    registry.add(("puls", "pulse"), pulse)
    registry.add(("pause",), pause)
    registry.add(("stopp", "stop"), stop)
    registry.add(("hjelp", "help"), help_)
    registry.add(("meg", "me"), me)
    registry.add(("slett", "delete"), delete)
    registry.add(("språk", "sprak", "language", "lang"), language)
    registry.add(("runde", "round"), round_, roles=LEADERS, summary="/runde start|slutt|status")


def _say(*texts: str) -> Reply:
    return Reply([OutgoingMessage(text) for text in texts])


def start(ctx: Context) -> Reply:
    """`/start` from someone already registered: continue where they are."""
    if ctx.person.onboarded_at is None:
        return Reply(ctx.engine.first_contact(ctx.session, ctx.person, ctx.now))
    steps = ctx.engine.next_step(ctx.session, ctx.person, ctx.now)
    return Reply(welcome_back(ctx.session, ctx.person, steps))


def pulse(ctx: Context) -> Reply:
    """Answer now; also how a paused or stopped person comes back."""
    messages: list[OutgoingMessage] = []
    if ctx.person.status != "active":
        ctx.person.status = "active"
        messages.append(OutgoingMessage(t(ctx.lang, "resumed")))
    messages.extend(ctx.engine.next_step(ctx.session, ctx.person, ctx.now, explicit=True))
    return Reply(messages)


def pause(ctx: Context) -> Reply:
    ctx.person.status = "paused"
    return _say(t(ctx.lang, "paused"))


def stop(ctx: Context) -> Reply:
    ctx.person.status = "stopped"
    return _say(t(ctx.lang, "stopped"))


def help_(ctx: Context) -> Reply:
    """Every command this person can use: the team's commands only for someone in a team."""
    texts = [t(ctx.lang, "help")]
    if ctx.engine.commands.get("arbeidstid") is not None:  # the learning network is there
        texts.append(t(ctx.lang, "walk_help_hours"))
        if ctx.person.team:
            texts.append(t(ctx.lang, "walk_help_team"))
    registry, role = ctx.engine.commands, ctx.person.role
    names = registry.restricted() if role in LEADERS else only_for(registry, role)
    if ctx.lang == "en":  # /gathering, not /samling
        names = sorted(english_name(registry, n) for n in names)
    shown = ", ".join(f"/{c}" for c in names)
    if names and role in LEADERS:
        texts.append(t(ctx.lang, "help_leader", commands=shown))
    elif names:  # a steering member's /styring
        texts.append(
            t(ctx.lang, "walk_help_role", role=t(ctx.lang, f"role_{role}"), commands=shown)
        )
    return _say("\n".join(texts))


# The English name of each command with a Norwegian one, as English help shows them.
ENGLISH_COMMANDS = frozenset(
    {"round", "gathering", "task", "remind", "steering", "gatherings", "tasks", "attend"}
)


def only_for(registry: CommandRegistry, role: str) -> list[str]:
    """Commands this role may use that not every role may (a steering member's /styring)."""
    return sorted(
        {
            registry.canonical[n]
            for n, s in registry.specs.items()
            if s.roles and role in s.roles and not set(ROLES) <= s.roles
        }
    )


def english_name(registry: CommandRegistry, name: str) -> str:
    """The English alias of a command ("samling" → "gathering"), for English help."""
    aliases = [n for n, c in registry.canonical.items() if c == name and n != name]
    return next((n for n in aliases if n in ENGLISH_COMMANDS), name)


def me(ctx: Context) -> Reply:
    """What is stored about me — everything that is linked to the person, and nothing else."""
    person, lang, survey = ctx.person, ctx.lang, ctx.engine.survey
    unset = t(lang, "not_set")

    def label(scale: str, value: str | None) -> str:
        if not value:
            return unset
        try:
            return survey.scales[scale].label(value, lang)
        except KeyError:
            return value

    background = background_line(survey, person, lang)
    addresses = people.addresses_of(ctx.session, person.id)
    chats = ", ".join(platform_label(lang, a.platform) for a in addresses) or unset
    invited, finished, pending = people.pulse_counts(ctx.session, person.id)
    texts = [
        t(
            lang,
            "me",
            name=person.name,
            email=person.email or unset,
            municipality=label("municipality", person.municipality),
            profession=label("profession", person.profession),
            role=t(lang, f"role_{person.role}"),
            team=person.team or unset,
            background=background or unset,
            language=t(lang, f"language_{person.language}"),
            status=t(lang, f"status_{person.status}"),
            chats=chats,
            invited=invited,
            finished=finished,
        )
    ]
    if pending:
        texts.append(t(lang, "me_pending", count=pending))
    texts.append(t(lang, "me_answers"))
    return _say(*texts)


def platform_label(lang: str, platform: str) -> str:
    """ "terminal" for the console; Telegram, Slack and Teams by their own names."""
    key = f"conv_platform_{platform}"
    return t(lang, key) if key in catalogue(lang) else platform.capitalize()


def delete(ctx: Context) -> Reply:
    """Ask before deleting: a confirmation button, so a stray `/slett` deletes nothing."""
    token = prompts.create(ctx.session, ctx.person.id, "delete", ctx.now)
    choices = (
        Choice(t(ctx.lang, "delete_yes"), f"{token}:yes"),
        Choice(t(ctx.lang, "delete_no"), f"{token}:no"),
    )
    return Reply([OutgoingMessage(t(ctx.lang, "delete_confirm"), choices)])


def confirm_delete(ctx: Context, prompt: Prompt) -> Reply:
    lang = ctx.lang
    if ctx.args[0] != "yes":
        return Reply(edit=OutgoingMessage(t(lang, "delete_cancelled")))
    people.delete_identity(ctx.session, ctx.person)
    return Reply(edit=OutgoingMessage(t(lang, "deleted")))


def language(ctx: Context) -> Reply:
    if ctx.args:
        chosen = ctx.engine.set_language(ctx.session, ctx.person, ctx.args[0])
        if chosen:
            return _say(t(chosen, "language_set"))
    token = prompts.create(ctx.session, ctx.person.id, "language", ctx.now)
    choices = tuple(
        Choice(t(ctx.lang, f"language_button_{code}"), f"{token}:{code}") for code in LANGUAGES
    )
    asked = t(ctx.lang, "language_choose")
    if ctx.args:  # "/språk xx": say why before asking (text from a person is shown as text)
        asked = t(ctx.lang, "walk_language_unknown", typed=" ".join(ctx.args)[:40]) + "\n" + asked
    return Reply([OutgoingMessage(asked, choices)])


def choose_language(ctx: Context, prompt: Prompt) -> Reply:
    chosen = ctx.engine.set_language(ctx.session, ctx.person, ctx.args[0])
    return Reply(edit=OutgoingMessage(t(chosen or ctx.lang, "language_set")))


def round_(ctx: Context) -> Reply:
    """`/runde status|start|slutt`: the leader sees counts only, never who answered what."""
    action = ctx.args[0].lower() if ctx.args else "status"
    current = answers.current_round(ctx.session)
    if action in ("start", "åpne", "opne", "open"):
        if current is not None:
            return _say(t(ctx.lang, "round_already_open", number=current.number))
        opened = ctx.engine.open_round_in(ctx.session, ctx.now)
        invited = answers.round_counts(ctx.session, opened.id).invited
        return _say(t(ctx.lang, "round_opened", number=opened.number, invited=invited))
    if action in ("slutt", "stopp", "lukk", "close", "end"):
        closed = ctx.engine.close_round_in(ctx.session, ctx.now)
        if closed is None:
            return _say(t(ctx.lang, "walk_round_none_leader"))
        ctx.after.append(lambda: ctx.engine.run_round_closed_hooks(closed.id))
        return _say(t(ctx.lang, "round_closed"))
    if current is None:  # the leader opens rounds: not "you will hear from me"
        return _say(t(ctx.lang, "walk_round_none_leader"))
    counts = answers.round_counts(ctx.session, current.id)
    # Participation per municipality through the one release path (bot/summaries.py).
    from bot.summaries import SummaryOptions, participation_report

    options = SummaryOptions(ctx.engine.config.k, language=ctx.lang)
    table = participation_report(
        ctx.session, ctx.engine.survey, current, options, "status", ctx.now
    )
    status = t(ctx.lang, "round_status", number=current.number, started=counts.started)
    return _say(f"{status}\n\n{table}")


PROMPT_HANDLERS = {"delete": confirm_delete, "language": choose_language}
