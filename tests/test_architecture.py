"""The house's shape, checked on every run (see the README's "Layout").

- no import circle between modules of `bot/`, `cogs/` and `pln_demo/`;
- `bot/` never imports `cogs` or `discord_emulator`, and the emulator imports neither of them;
- nothing imports the demo (`pln_demo`), which may import the bot and the emulator but not the
  cogs (it runs the bot through its composition root); `bot/cli.py` names it for `plnbot demo`;
- Discord-free modules (every service, record, model and rule under `bot/`) import no `discord`,
  nor a Discord-side module of `bot/`;
- no module is over 600 lines.

TYPE_CHECKING imports count: a circle that only type checkers see is still a tangle to read.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE_PACKAGES = ("bot", "cogs", "discord_emulator", "pln_demo")
# The Discord side of `bot/`: the bot class, its composition root and CLI, the command tree, and
# the shared Discord UI (replies, views, checks). Everything else in `bot/` is Discord-free.
DISCORD_SIDE = ("bot.app", "bot.cli", "bot.core", "bot.tree", "bot.checks", "bot.invite", "bot.ui")
MAX_LINES = 600

Graph = dict[str, set[str]]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "tests" not in path.relative_to(root).parts:
                files[module_name(path, root)] = path
    return files


def imports_of(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """Every module `name` imports: project modules by their name, others by their top package."""
    known = set(known)
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def project_module(dotted: str) -> str:
        # `import bot.library.service` names a module; `from bot.library import Link` names a
        # package and something in it: the longest known prefix is what is imported.
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in known:
                return candidate
        return parts[0]

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(project_module(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            for alias in node.names:
                found.add(project_module(f"{origin}.{alias.name}"))
    found.discard(name)
    return found


def import_graph(files: Mapping[str, Path]) -> Graph:
    return {name: imports_of(name, path, files) for name, path in files.items()}


def circles(graph: Graph, within: tuple[str, ...]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), among modules in `within`."""
    nodes = [n for n in graph if n.startswith(within)]
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph or not target.startswith(within):
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in nodes:
        if node not in index:
            visit(node)
    return found


def is_under(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(graph: Graph) -> list[str]:
    within = ("bot", "cogs", "pln_demo")
    problems = [f"import circle: {' -> '.join(group)}" for group in circles(graph, within)]
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if is_under(target, ["pln_demo"]) and not is_under(module, ["pln_demo"]):
                problems.append(f"{module} imports the demo ({target})")
            if is_under(module, ["pln_demo"]) and is_under(target, ["cogs"]):
                problems.append(f"the demo ({module}) imports a cog ({target})")
            if is_under(module, ["bot"]) and is_under(target, ["cogs", "discord_emulator"]):
                problems.append(f"{module} reaches up to {target}")
            if is_under(module, ["discord_emulator"]) and is_under(target, ["bot", "cogs"]):
                problems.append(f"the emulator ({module}) imports the bot ({target})")
            discord_free = is_under(module, ["bot"]) and not is_under(module, DISCORD_SIDE)
            if discord_free and (is_under(target, ["discord"]) or is_under(target, DISCORD_SIDE)):
                problems.append(f"{module} is Discord-free but imports {target}")
    return problems


def test_the_import_graph_has_no_circles_and_nothing_reaches_up() -> None:
    graph = import_graph(source_files(ROOT, SOURCE_PACKAGES))
    assert len(graph) > 100  # the whole tree was read
    assert violations(graph) == []


def test_the_cli_names_the_demo_package_it_loads() -> None:
    from bot.cli import DEMO_MODULE

    assert DEMO_MODULE in SOURCE_PACKAGES and (ROOT / DEMO_MODULE / "__init__.py").is_file()


def test_no_module_is_over_600_lines() -> None:
    folders = (*SOURCE_PACKAGES, "tests", "bench", "migrations")
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def _tree(root: Path, modules: Mapping[str, str]) -> Graph:
    for relative, text in modules.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_graph(source_files(root, SOURCE_PACKAGES))


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        (
            {
                "bot/__init__.py": "",
                "bot/a.py": "from bot.b import thing\n",
                "bot/b.py": (
                    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bot.a\n"
                ),
            },
            "import circle: bot.a -> bot.b",
        ),
        (
            {
                "bot/__init__.py": "",
                "bot/x.py": "",
                "cogs/__init__.py": "",
                "cogs/y/__init__.py": "from . import _z\nfrom bot import x\n",
                "cogs/y/_z.py": "from cogs.y import _w\n",
                "cogs/y/_w.py": "",
            },
            "",
        ),
        (
            {
                "bot/__init__.py": "",
                "bot/core.py": "import cogs.topics\n",
                "cogs/__init__.py": "",
                "cogs/topics.py": "",
            },
            "bot.core reaches up to cogs.topics",
        ),
        (
            {
                "bot/__init__.py": "",
                "bot/library/__init__.py": "",
                "bot/library/service.py": "import discord\n",
            },
            "bot.library.service is Discord-free but imports discord",
        ),
        (
            {
                "bot/__init__.py": "",
                "bot/ui/__init__.py": "",
                "bot/ui/text.py": "",
                "bot/recap/__init__.py": "",
                "bot/recap/service.py": "from bot.ui import text\n",
            },
            "bot.recap.service is Discord-free but imports bot.ui.text",
        ),
        (
            {
                "bot/__init__.py": "",
                "bot/errors.py": "",
                "discord_emulator/__init__.py": "",
                "discord_emulator/state.py": "from bot.errors import UserFacingError\n",
            },
            "the emulator (discord_emulator.state) imports the bot (bot.errors)",
        ),
        (
            {
                "bot/__init__.py": "",
                "bot/cli.py": "from pln_demo import main\n",
                "pln_demo/__init__.py": "",
            },
            "bot.cli imports the demo (pln_demo)",
        ),
        (
            {
                "cogs/__init__.py": "",
                "cogs/topics.py": "",
                "pln_demo/__init__.py": "",
                "pln_demo/story.py": "from cogs import topics\n",
            },
            "the demo (pln_demo.story) imports a cog (cogs.topics)",
        ),
    ],
)
def test_the_checker_sees_each_kind_of_problem(
    tmp_path: Path, modules: dict[str, str], expected: str
) -> None:
    problems = violations(_tree(tmp_path, modules))
    assert problems == ([expected] if expected else [])


def modal_problems(files: Mapping[str, Path]) -> list[str]:
    """Modals built on anything but `Form`, text inputs other than `TextField`: the way a NUL
    from a member's form would reach the database uncleaned."""
    problems = []
    for name, path in sorted(files.items()):
        if name == "bot.ui.forms":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base) for base in node.bases}
                if bases & {"discord.ui.Modal", "ui.Modal", "Modal"}:
                    problems.append(f"{name}.{node.name} is a modal not built on Form")
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("TextInput"):
                problems.append(f"{name} builds a TextInput; use TextField")
    return problems


def test_every_modal_is_a_form_with_cleaned_text_fields() -> None:
    files = source_files(ROOT, ("bot", "cogs"))
    assert modal_problems(files) == []
    assert "class TextField(discord.ui.TextInput[V])" in files["bot.ui.forms"].read_text()


def test_the_modal_checker_sees_a_raw_modal(tmp_path: Path) -> None:
    source = (
        "import discord\n"
        "class Ask(discord.ui.Modal):\n"
        "    field = discord.ui.TextInput(label='x')\n"
    )
    (tmp_path / "cogs").mkdir()
    (tmp_path / "cogs" / "ask.py").write_text(source)
    assert modal_problems(source_files(tmp_path, ("cogs",))) == [
        "cogs.ask.Ask is a modal not built on Form",
        "cogs.ask builds a TextInput; use TextField",
    ]
