"""The scripted week, step by step. Each step acts through the emulator as members would and
checks what they would then see; `STORY` is the order (the demo's test reads it).

The week: on Monday the moderator sets the server up and members pick their topics; links are
shared and re-shared on Tuesday, one is captured from a topic channel; Wednesday brings the
prompt of the week, a search and a save, and the chat's announcement; Thursday the chat hour;
Sunday the recap and the digests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bot.wording import plural
from discord_emulator import Channel, Message
from pln_demo.commands import Command
from pln_demo.director import DemoError, Director, expect

TOPICS = (
    ("Maths", "Number sense, problem solving and the joy of proof", "➗", "maths"),
    ("Literacy", "Reading, writing and talk across the curriculum", "📚", "reading"),
    ("Assessment", "Feedback, marking and knowing what they know", "🎯", "feedback"),
    ("EdTech", "Tools that earn their place in a lesson", "💻", "edtech"),
)
# Who follows what, as each member picks in the topic picker.
FOLLOWS = {
    "ana": ["Maths", "Assessment"],
    "ben": ["Maths"],
    "chen": ["Literacy"],
    "dara": ["Literacy", "Assessment"],
    "eli": ["EdTech"],
    "fatima": ["Assessment", "EdTech"],
    "gus": ["Maths", "EdTech"],
    "hana": ["Maths", "Assessment"],
    "ivan": ["EdTech", "Literacy"],
    "jo": ["Maths", "Literacy"],
    "kai": ["Assessment"],
    "lee": ["Literacy", "EdTech"],
}
PROMPTS = (
    "What is one thing a student taught you this week?",
    "Which routine saved you the most time this week, and how?",
    "What question are you carrying into next week?",
)
CHAT_TITLE = "EdChat: feedback that moves learning"
QUESTIONS = (
    "What does useful feedback look like in your classroom?",
    "How do you make time for students to act on feedback?",
    "Which tool or routine helps you most?",
    "What will you try next week?",
)
PIZZA = "Teaching fractions with pizza"
FEEDBACK = "Feedback that moves learning forward"
READING = "Reading aloud to older students"
CAPTURED = "https://blog.example/feedback-loops"


@dataclass
class Play:
    """The director, the week's Monday, and what later steps need from earlier ones."""

    director: Director
    monday: datetime  # 00:00 in the server's zone
    picker: Message | None = None
    cards: dict[str, Message] = field(default_factory=dict)

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        """Day 0 is Monday; the time is the server's."""
        date = (self.monday + timedelta(days=day)).date()
        return datetime.combine(date, time(hour, minute), tzinfo=self.monday.tzinfo)


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    play: Callable[[Play], Awaitable[None]]
    # When it happens (day of the week from Monday = 0, hour, minute, server time); None: right
    # after the step before. The clock jumps there first and what is due then runs.
    at: tuple[int, int, int] | None = None


# --- Monday: the moderator sets up the server ---------------------------------------------------


async def server_settings(play: Play) -> None:
    d = play.director
    c = d.community
    reply = await d.run(
        c.moderator,
        Command.SERVER_SETTINGS,
        {
            "timezone": str(c.timezone),
            "moderator_role": c.moderators,
            "log_channel": d.channel("mod-log"),
        },
    )
    expect("Settings saved." in reply.content, f"the settings were not saved: {reply.content!r}")


async def topics(play: Play) -> None:
    d = play.director
    for name, description, emoji, tags in TOPICS:
        options = {"name": name, "description": description, "emoji": emoji, "tags": tags}
        reply = await d.run(d.community.moderator, Command.CREATE_TOPIC, options)
        expect("Created" in reply.content, f"topic {name} was not created: {reply.content!r}")
        d.channel(name.lower())  # its channel exists


async def picker(play: Play) -> None:
    d = play.director
    welcome = d.channel("welcome")
    await d.run(d.community.moderator, Command.TOPIC_PICKER, {"channel": welcome})
    play.picker = await d.until(
        "the topic picker in #welcome",
        lambda: (
            next((m for m in d.bot_posts(welcome) if m.components), None)
            or next((m for m in d.emulator.history(welcome) if m.components), None)
        ),
    )


async def prompts(play: Play) -> None:
    d = play.director
    mona = d.community.moderator
    for text in PROMPTS:
        reply = await d.run(mona, Command.ADD_PROMPT, {"text": text})
        expect("Added prompt" in reply.content, f"the prompt was not added: {reply.content!r}")
    options = {"when": "weekly on wed at 09:00", "channel": d.channel("general"), "thread": True}
    preview = await d.run(mona, Command.SCHEDULE_PROMPTS, options)
    expect("Next runs" in preview.content, f"no preview of the schedule: {preview.content!r}")
    await d.click(mona, preview, "Save")
    await d.until(
        "the prompt schedule to be saved",
        lambda: any(
            "Saved prompt schedule" in m.content for m in d.emulator.ephemeral_messages(mona.member)
        ),
    )


async def chat(play: Play) -> None:
    d = play.director
    mona = d.community.moderator
    options = {
        "title": CHAT_TITLE,
        "when": "weekly on thu at 19:00",
        "channel": d.channel("general"),
        "duration": 30,
        "interval": 5,
    }
    opened = await d.invoke(mona, Command.SCHEDULE_CHAT, options)
    submitted = await d.form(mona, opened, {"questions": "\n".join(QUESTIONS)})
    done = await d.followup(submitted)
    expect(
        f"with {plural(len(QUESTIONS), 'question')}" in done.content,
        f"the chat was not scheduled: {done.content!r}",
    )


async def recap(play: Play) -> None:
    d = play.director
    options = {"channel": d.channel("recap"), "weekday": 6, "time": "17:00", "top": 5}
    reply = await d.run(d.community.moderator, Command.RECAP_SETTINGS, options)
    expect("every Sunday at 17:00" in reply.content, f"no recap schedule: {reply.content!r}")


# --- Monday: members arrive ------------------------------------------------------------------


async def follow(play: Play) -> None:
    d = play.director
    menu = play.picker
    assert menu is not None
    for name, chosen in FOLLOWS.items():
        answer = await d.choose(d.community.person(name), menu, "topics:picker:0", chosen)
        expect("Joined" in answer.content, f"{name} could not follow {chosen}: {answer.content!r}")


async def upcoming(play: Play) -> None:
    d = play.director
    answer = await d.run(d.community.person("kai"), Command.UPCOMING_CHATS)
    shown = answer.content + "".join(str(e) for e in answer.embeds)
    expect(CHAT_TITLE in shown, f"the chat is not among the upcoming ones: {shown[:200]!r}")


async def digests(play: Play) -> None:
    d = play.director
    for name in ("hana", "ivan"):
        answer = await d.run(
            d.community.person(name), Command.DIGEST_ON, {"weekday": 6, "time": "18:00"}
        )
        expect("digest is on" in answer.content, f"no digest for {name}: {answer.content!r}")


# --- Tuesday: links ----------------------------------------------------------------------------


async def share(play: Play) -> None:
    d = play.director
    url = (
        "https://www.mathsclass.example/fractions-with-pizza"
        "?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    )
    options = {"title": PIZZA, "tags": "k-12", "note": "My Year 4s asked for more fractions!"}
    record = await d.invoke(
        d.community.person("ana"),
        Command.SHARE,
        {"url": url, **options},
        channel=d.channel("maths"),
    )
    card = await d.emulator.wait_for_response(record)
    expect(not card.ephemeral and card.embeds, "the share card was not posted for everyone")
    await d.beat()
    play.cards[PIZZA] = card


async def reshare(play: Play) -> None:
    d = play.director
    url = "https://mathsclass.example/fractions-with-pizza/?fbclid=IwAR0demo&utm_medium=social"
    await _share(d, "ben", "general", url, again=True)


async def more_links(play: Play) -> None:
    d = play.director
    shares = (
        ("chen", "literacy", "https://readingroom.example/read-aloud?utm_source=x", READING),
        ("dara", "literacy", "https://readingroom.example/read-aloud/?utm_source=newsletter", None),
        ("fatima", "assessment", "https://feedback.example/forward?mc_cid=42&mc_eid=7", FEEDBACK),
        ("gus", "assessment", "https://feedback.example/forward?utm_medium=social", None),
    )
    for name, channel, url, title in shares:
        card = await _share(d, name, channel, url, title=title, again=title is None)
        if title:
            play.cards[title] = card
    for name, starred in (("jo", FEEDBACK), ("lee", FEEDBACK), ("kai", PIZZA)):
        await d.react(d.community.person(name), play.cards[starred], "⭐")


async def _share(
    d: Director, name: str, channel: str, url: str, *, title: str | None = None, again: bool
) -> Message:
    """/share: a card for everyone, or for a link shared before, only the bot's private word on
    who shared it first (the re-share counts; one link keeps one card)."""
    options = {"url": url, **({"title": title} if title else {})}
    record = await d.invoke(
        d.community.person(name), Command.SHARE, options, channel=d.channel(channel)
    )
    answer = await d.emulator.wait_for_response(record)
    if again:
        expect(
            answer.ephemeral and "Already in the library" in answer.content,
            f"{name}'s re-share was not recognised: {answer.content!r}",
        )
    else:
        expect(
            not answer.ephemeral and answer.embeds,
            f"{name}'s share card was not posted for everyone",
        )
    await d.beat()
    return answer


async def capture(play: Play) -> None:
    d = play.director
    await d.post(
        d.community.person("eli"),
        d.channel("edtech"),
        f"This changed how I give feedback: {CAPTURED}?utm_campaign=edchat&utm_source=x "
        "Short and practical.",
    )
    library = d.bot.services.library
    guild_id = d.community.guild.id

    async def captured() -> bool:
        found = await library.search(guild_id, "loops")
        return any(r.canonical_url == CAPTURED for r in found)

    await d.until_async("the link from #edtech to reach the library", captured)
    d.transcript.note(f"The bot filed {CAPTURED} in the library: #edtech is a topic channel.")


# --- Wednesday ---------------------------------------------------------------------------------


async def prompt(play: Play) -> None:
    d = play.director
    general = d.channel("general")
    posted = await d.until(
        "the prompt of the week in #general",
        lambda: next((m for m in d.bot_posts(general) if m.content.find(PROMPTS[0]) >= 0), None),
    )
    thread = await d.until(
        "a thread for replies to the prompt",
        lambda: (
            next((t for t in d.threads_of(general) if t.id == posted.thread_id), None)
            or next(iter(d.threads_of(general)), None)
        ),
    )
    await d.post(d.community.person("jo"), thread, "A Year 2 taught me to count in base 5!")
    await d.post(d.community.person("lee"), thread, "That silence after a question is a gift.")


async def search_and_save(play: Play) -> None:
    d = play.director
    lee = d.community.person("lee")
    page = await d.run(lee, Command.SEARCH, {"query": "feedback"})
    shown = "".join(e.get("description", "") for e in page.embeds)
    expect(page.ephemeral and FEEDBACK in shown, f"the search did not find it: {shown[:200]!r}")
    saved = await d.click(lee, play.cards[FEEDBACK], "Save")
    expect("Saved resource" in saved.content, f"the save failed: {saved.content!r}")
    mine = await d.run(lee, Command.SAVED)
    listed = "".join(e.get("description", "") for e in mine.embeds)
    expect(FEEDBACK in listed, f"/saved does not list it: {listed[:200]!r}")


async def announcement(play: Play) -> None:
    d = play.director
    general = d.channel("general")
    await d.until(
        "the chat's announcement in #general",
        lambda: any(
            CHAT_TITLE in _text(m) and QUESTIONS[0] in _text(m) for m in d.bot_posts(general)
        ),
    )


# --- Thursday: the chat hour -----------------------------------------------------------------


async def chat_hour(play: Play) -> None:
    d = play.director
    general = d.channel("general")
    answers = {
        1: [("ana", "A1 Specific, kind, and about the next step."), ("hana", "A1 Short!")],
        2: [("ben", "A2 Ten minutes at the start of the next lesson."), ("gus", "A2 Same.")],
        3: [
            ("fatima", f"A3 Whole-class feedback sheets. {CAPTURED}"),
            ("kai", "A3 Hinge questions."),
        ],
        4: [("dara", "A4 Fewer comments, more questions."), ("chen", "A4 Peer feedback.")],
    }
    thread = await d.until(
        "the chat's thread",
        lambda: next((t for t in d.threads_of(general) if CHAT_TITLE[:20] in (t.name or "")), None),
    )
    for number, question in enumerate(QUESTIONS, start=1):
        await d.tick_until(
            f"Q{number} in the thread",
            _question_posted(d, thread, number, question),
            step=timedelta(minutes=1),
            limit=timedelta(minutes=10),
        )
        for name, text in answers[number]:
            await d.post(d.community.person(name), thread, text)


def _question_posted(
    d: Director, thread: Channel, number: int, question: str
) -> Callable[[], bool]:
    def posted() -> bool:
        return any(
            m.content.startswith(f"**Q{number}**") and question in m.content
            for m in d.bot_posts(thread)
        )

    return posted


async def chat_summary(play: Play) -> None:
    d = play.director
    general = d.channel("general")
    thread = next(t for t in d.threads_of(general) if CHAT_TITLE[:20] in (t.name or ""))
    await d.tick_until(
        "the chat's summary",
        lambda: any("summary" in m.content for m in d.bot_posts(thread)),
        step=timedelta(minutes=5),
        limit=timedelta(minutes=30),
    )
    await d.until(
        "the summary's notice in #general",
        lambda: any("summary" in m.content for m in d.bot_posts(general)),
    )


# --- Sunday ----------------------------------------------------------------------------------


async def weekly_recap(play: Play) -> None:
    d = play.director
    channel = d.channel("recap")
    posts = await d.until("the weekly recap in #recap", lambda: d.bot_posts(channel) or None)
    text = "\n".join(_text(m) for m in posts)
    for title in (FEEDBACK, PIZZA, READING):
        expect(title in text, f"the recap lacks {title!r}")
    expect(
        text.index(FEEDBACK) < text.index(PIZZA) < text.index(READING),
        "the recap's order is not by members, then votes",
    )


async def digest(play: Play) -> None:
    d = play.director
    hana = d.community.person("hana")
    dms = await d.tick_until(
        "hana's digest by DM",
        lambda: d.emulator.dm_history(hana.member) or None,
        step=timedelta(minutes=10),
        limit=timedelta(minutes=70),
    )
    text = "\n".join(_text(m) for m in dms)
    expect(PIZZA in text and FEEDBACK in text, f"hana's digest lacks her topics: {text[:300]!r}")
    expect(READING not in text, "hana's digest holds a topic she does not follow")


def _text(message: Message) -> str:
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f.get('name', '')} {f.get('value', '')}" for f in embed.get("fields", [])]
    return "\n".join(parts)


STORY: tuple[Step, ...] = (
    Step(
        "server-settings",
        "Mona, the moderator, sets the time zone, her role and a log channel",
        server_settings,
        at=(0, 8, 0),
    ),
    Step("topics", "Mona creates four topics: a channel and a role each", topics),
    Step("picker", "Mona posts the topic picker in #welcome", picker),
    Step("prompts", "Mona fills the prompt bank and schedules a prompt every Wednesday", prompts),
    Step("chat", "Mona schedules the weekly chat hour, Thursdays at 19:00", chat),
    Step("recap-settings", "Mona turns on the weekly recap, Sundays at 17:00 in #recap", recap),
    Step("follow", "Members follow topics through the picker", follow, at=(0, 9, 30)),
    Step("upcoming", "Kai, in Auckland, reads when the chat is, in his own time zone", upcoming),
    Step("digest-on", "Hana and Ivan ask for a weekly digest by DM", digests),
    Step("share", "Ana shares a link, tracking parameters and all", share, at=(1, 10, 15)),
    Step("reshare", "Ben shares the same article from another newsletter", reshare),
    Step("more-links", "More links, some shared twice, and stars for the best", more_links),
    Step(
        "capture", "Eli posts a link in #edtech; the bot files it by itself", capture, at=(1, 14, 0)
    ),
    Step(
        "prompt", "The prompt of the week appears on schedule; members reply", prompt, at=(2, 9, 0)
    ),
    Step(
        "search-save",
        "Lee searches the library for feedback and saves a find",
        search_and_save,
        at=(2, 12, 30),
    ),
    Step(
        "announcement",
        "A day ahead, the bot announces the chat and its questions",
        announcement,
        at=(2, 19, 0),
    ),
    Step(
        "chat-hour",
        "The chat hour: Q1 to Q4 in a thread, members answering",
        chat_hour,
        at=(3, 19, 0),
    ),
    Step("chat-summary", "The chat ends with its summary", chat_summary),
    Step("recap", "Sunday 17:00: the week's recap", weekly_recap, at=(6, 17, 0)),
    Step("digest", "Sunday 18:00: Hana's digest arrives by DM", digest, at=(6, 18, 0)),
)

__all__ = ["STORY", "DemoError", "Play", "Step"]
