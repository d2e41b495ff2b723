"""Chapter 06 · Branching and merging: resolve two heads, find a branch point.

Each setup builds a workspace of the exercise's own (``<chapter's workspace>-q1``) at the
chapter's stage (0007) and makes a history in it, so the ids it prints are the same on
every run, running a setup again is a clean restart, and the chapter's workspace (its
timeline too) stays as the chapter left it.
"""

from __future__ import annotations

import datetime as dt
import re

from alembic.util import CommandError

from workbook.exercises import PLACEHOLDER, Correct, Exercise, Incorrect, NotAttempted, Result
from workbook.exercises.checks import built_at, new_revision, start_over
from workbook.exercises.core import Alembic, Note
from workbook.exercises.inspect import (
    differences,
    differences_message,
    find_revision,
    revisions,
    workspace_current,
)
from workbook.exercises.practice import practice_workspace
from workbook.runner import WORKBOOK_CLOCK
from workbook.workspace import Workspace, WorkspaceError

_BOOK = "app/models/book.py"
_USER = "app/models/user.py"


def _rebuild(workspace: Workspace) -> str:
    """The stage's head in ``workspace``, which must have one head."""
    heads = workspace.heads()
    if len(heads) != 1:
        raise WorkspaceError(f"the stage has {len(heads)} heads; this exercise needs one")
    return heads[0]


def _parents(script) -> tuple[str, ...]:
    down = script.down_revision
    if down is None:
        return ()
    return (down,) if isinstance(down, str) else tuple(down)


# -- q1: two heads ---------------------------------------------------------------------------
MINE = "Add language to books"
THEIRS = "Add location to users"
_DESCRIPTION = "    description: Mapped[Optional[str]] = mapped_column(Text, default=None)\n"
_LANGUAGE = "    language: Mapped[Optional[str]] = mapped_column(String(35), default=None)\n"
_PHONE = "    phone_number: Mapped[Optional[str]] = mapped_column(String(15), default=None)\n"
_LOCATION = "    location: Mapped[Optional[str]] = mapped_column(String(100), default=None)\n"


def _add_column(table: str, column: str, length: str) -> dict[str, str]:
    """The bodies of a revision that adds a nullable VARCHAR(length) column."""
    batch = f"with op.batch_alter_table('{table}', schema=None) as batch_op:\n"
    return {
        "upgrade": f"{batch}    batch_op.add_column(sa.Column('{column}', "
        f"sa.String(length={length}), nullable=True))\n",
        "downgrade": f"{batch}    batch_op.drop_column('{column}')\n",
    }


class ResolveTwoHeads(Exercise):
    title = "Resolve a two-head conflict"
    hints = [
        "Start by looking: `%alembic heads` lists two heads, and `ws.graph()` shows where they "
        "split. Both revisions are needed: each adds a column that the models have.",
        "A merge revision has both heads as its parents and usually does nothing itself. "
        'Alembic writes it for you: `%alembic merge heads -m "..."`.',
        "After the merge, there is one head again, but the database does not know yet: "
        "`%alembic upgrade head` applies the teammate's revision and then the merge.",
    ]
    solution_intro = "Merge the two heads into one, then apply everything up to it:"
    solution_steps = [
        Alembic('merge heads -m "Merge language and location"'),
        Alembic("upgrade head"),
        Note(
            "`%alembic heads` now shows one head, `%alembic current` shows it too, and "
            "`%alembic check` finds nothing to do."
        ),
    ]

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q1")
        parent = _rebuild(workspace)
        workspace.edit(_BOOK, _DESCRIPTION, _DESCRIPTION + _LANGUAGE)
        mine = new_revision(
            workspace, MINE, **_add_column("books", "language", "35"), applied=True
        ).revision
        workspace.edit(_USER, _PHONE, _PHONE + _LOCATION)
        theirs = new_revision(
            workspace,
            THEIRS,
            "--head",
            parent,
            "--splice",
            **_add_column("users", "location", "100"),
        ).revision
        return (
            f"{built_at(workspace, parent)}; "
            f'revision {mine} ("{MINE}", yours, '
            f'applied) and revision {theirs} ("{THEIRS}", your teammate\'s, not applied) '
            f"both revise {parent}, and the models have both columns. `%alembic heads` "
            f"shows two heads. {start_over('q1')}"
        )

    def _check(self, workspace: Workspace, *answer) -> Result:
        mine, theirs = find_revision(workspace, MINE), find_revision(workspace, THEIRS)
        if mine is None and theirs is None:
            return NotAttempted("run `q1.setup()` first: it makes the two heads to resolve.")
        if mine is None or theirs is None:
            gone = MINE if mine is None else THEIRS
            return Incorrect(
                f'the revision "{gone}" is gone. Deleting a revision file throws '
                "that change away: its column is still in the models, and no "
                "migration creates it any more (on every other database it may "
                "even be applied already). Run `q1.setup()` to start over, and "
                'merge instead: `%alembic merge heads -m "..."`.'
            )
        pair = {mine.revision, theirs.revision}
        heads = workspace.heads()
        current = workspace_current(workspace)
        if len(heads) > 1:
            listed = ", ".join(heads)
            if set(heads) == pair and current == [mine.revision]:
                return NotAttempted(f"there are still two heads, {listed}: nothing resolved yet.")
            if set(current) == set(heads):
                return Incorrect(
                    f"the database has both branches applied (`upgrade heads`), "
                    f"but the history still has {len(heads)} heads ({listed}): "
                    "the next `upgrade head` or `revision`, yours or a "
                    "teammate's, fails again. Merge them: `%alembic merge heads "
                    '-m "..."`, then `%alembic upgrade head`.'
                )
            return Incorrect(
                f"there are still {len(heads)} heads ({listed}): merge them into "
                'one with `%alembic merge heads -m "..."`.'
            )
        scripts = {s.revision: s for s in revisions(workspace)}
        merges = [s for s in scripts.values() if set(_parents(s)) == pair]
        if not merges:
            return Incorrect(
                f"there is one head, {heads[0]}, but no revision merges "
                f"{mine.revision} and {theirs.revision}: one branch was moved on "
                "top of the other (an edited `down_revision`). That rewrites a "
                "revision others may have applied; make a merge revision instead "
                "(`q1.setup()` starts over)."
            )
        merge = merges[0].revision
        if heads[0] != merge and merge not in _ancestors(scripts, heads[0]):
            return Incorrect(
                f"revision {merge} merges the two heads, but the head is "
                f"{heads[0]}, which does not come after it."
            )
        if current != heads:
            where = ", ".join(current) or "base"
            pending = _not_applied(scripts, current, heads[0])
            return Incorrect(
                f"the merge {merge} is written but not applied: the database is "
                f"at {where}. `%alembic upgrade head` applies {_in_order(pending)}."
            )
        found = differences(workspace)
        if found:
            return Incorrect(
                "the models and the database still differ (as `%alembic check` "
                f"would say): {differences_message(found)}."
            )
        return Correct(
            f"one head again: {merge} merges {mine.revision} and {theirs.revision}; "
            "the database is at it, and the models match it."
        )


def _not_applied(scripts: dict, current: list[str], head: str) -> list[str]:
    """What `upgrade head` runs from a database at ``current``: ``head`` and its ancestors
    not already applied (those of each current revision), oldest first. ``scripts``:
    every revision by id, newest first (``revisions``' order)."""
    applied = set(current)
    for revision in current:
        if revision in scripts:
            applied |= _ancestors(scripts, revision)
    wanted = {head} | _ancestors(scripts, head)
    return [revision for revision in reversed(scripts) if revision in wanted - applied]


def _in_order(revisions: list[str]) -> str:
    """["0009", "0010"] -> "0009 and then 0010"; ["0010"] -> "0010"."""
    if len(revisions) < 2:
        return "".join(revisions)
    return f"{', '.join(revisions[:-1])} and then {revisions[-1]}"


def _ancestors(scripts: dict, revision: str) -> set[str]:
    seen: set[str] = set()
    todo = list(_parents(scripts[revision]))
    while todo:
        rev = todo.pop()
        if rev not in seen and rev in scripts:
            seen.add(rev)
            todo.extend(_parents(scripts[rev]))
    return seen


# -- q2: the branch point ----------------------------------------------------------------------
# (revision id, message, parents): a history as it looks with Alembic's random ids.
# "^" is the stage's head.
HISTORY = [
    ("8d2f41c07a3e", "Add language to books", ("^",)),
    ("b51e9a2c6d70", "Create reviews table", ("8d2f41c07a3e",)),
    ("2c7f0d93e1b4", "Add rating to reviews", ("b51e9a2c6d70",)),
    ("e9a06b3f5c12", "Index reviews by book", ("b51e9a2c6d70",)),
    ("47d1c8a2f690", "Add reviewer_id to reviews", ("e9a06b3f5c12",)),
    ("f03b7e5d9a28", "Merge rating and reviewer branches", ("2c7f0d93e1b4", "47d1c8a2f690")),
    ("6a9e2d14c7b3", "Add review_count to books", ("f03b7e5d9a28",)),
]
BRANCH_POINT = "b51e9a2c6d70"
# What `alembic revision` (through env.py's hook) and `alembic merge` write, without
# running env.py for each of the seven revisions.
_EMPTY_REVISION = '''"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: {date}

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = {rev!r}
down_revision: Union[str, Sequence[str], None] = {down!r}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Apply migration."""
    {body}


def downgrade() -> None:
    """Revert migration."""
    {body}
'''
_EMPTY_BODY = (
    "# ### commands auto generated by Alembic - please adjust! ###\n"
    "    pass\n"
    "    # ### end Alembic commands ###"
)


class FindTheBranchPoint(Exercise):
    title = "Find the branch point of a history"
    hints = [
        "A branch point is a revision with more than one child: two revisions name it as "
        "their `down_revision`. Alembic's commands mark it for you.",
        "`%alembic history` tags it `(branchpoint)`, and `%alembic branches` lists only "
        "branch points, with the revisions they branch into. `ws.graph()` draws it.",
        "Not the merge point (the revision with two parents, where the branches meet again), "
        "and not a head (the newest revision): the branch point is further down.",
    ]
    solution_intro = "Ask Alembic for the branch points:"
    solution_steps = [
        Alembic("branches"),
        Note(
            f"It prints one: `{BRANCH_POINT} (branchpoint)`, which branches into "
            "`2c7f0d93e1b4` and `e9a06b3f5c12`.\n\n"
            f'```python\nanswer = "{BRANCH_POINT}"\nq2.check(answer)\n```'
        ),
    ]

    def _setup(self, workspace: Workspace) -> str:
        workspace = practice_workspace(workspace, "q2")
        parent = _rebuild(workspace)
        count = len(revisions(workspace))
        for index, (rev_id, message, parents) in enumerate(HISTORY):
            parents = tuple(parent if p == "^" else p for p in parents)
            date = WORKBOOK_CLOCK + dt.timedelta(minutes=count + index)  # as %alembic dates
            slug = "_".join(re.findall(r"\w+", message)).lower()
            down = parents[0] if len(parents) == 1 else parents
            workspace.write(
                f"alembic/versions/{date:%Y%m%d_%H%M}_{rev_id}_{slug}.py",
                _EMPTY_REVISION.format(
                    message=message,
                    rev=rev_id,
                    date=date,
                    revises=", ".join(parents),
                    down=down,
                    body=_EMPTY_BODY if len(parents) == 1 else "pass",
                ),
            )
        return (
            f"{built_at(workspace, parent)} and "
            f"{len(HISTORY)} revisions were "
            "added on top of it (their bodies are empty: only the shape of the history "
            "matters here). The database is still at " + parent
        )

    def _solve(self, workspace: Workspace) -> tuple:
        return (BRANCH_POINT,)

    def _check(self, workspace: Workspace, answer=PLACEHOLDER, *rest) -> Result:
        scripts = {s.revision: s for s in revisions(workspace)}
        if any(rev_id not in scripts for rev_id, _message, _parents in HISTORY):
            return NotAttempted("run `q2.setup()` first: it builds the history to read.")
        if answer is PLACEHOLDER:
            return NotAttempted(
                "store the branch point's revision id in `answer`, then run `q2.check(answer)`."
            )
        if not isinstance(answer, str):
            return Incorrect(
                f'`answer` should be a revision id, a string such as "0007", '
                f"not {type(answer).__name__} {answer!r}."
            )
        wanted = answer.strip()
        try:
            script = workspace.script_directory().get_revision(wanted) if wanted else None
        except CommandError as error:
            if "multiple" in str(error).lower():
                return Incorrect(
                    f"{wanted!r} is the start of several revision ids: give the "
                    "whole id, as `%alembic history` prints it."
                )
            script = None  # "Can't locate revision identified by ..."
        if script is None:
            return Incorrect(
                f"there is no revision {wanted!r} in this history: copy an id "
                "from `%alembic history`."
            )
        rev = script.revision
        children = sorted(c for c, s in scripts.items() if rev in _parents(s))
        if script.is_branch_point:
            return Correct(
                f"{rev} is the branch point: two revisions revise it, {' and '.join(children)}."
            )
        if script.is_merge_point:
            return Incorrect(
                f"{rev} is a merge point: the branches come together there (its "
                f"parents are {' and '.join(_parents(script))}). The branch point "
                "is where they split: a revision with two children."
            )
        if script.is_head:
            return Incorrect(
                f"{rev} is a head: the newest revision, nothing revises it. The "
                "branch point is where the history splits in two, further down."
            )
        child = children[0] if children else "none"
        return Incorrect(
            f"{rev} has one child ({child}): the history does not split there. "
            "Look for a revision that two revisions name as `down_revision`."
        )


q1 = ResolveTwoHeads()
q2 = FindTheBranchPoint()
