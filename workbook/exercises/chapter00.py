"""Chapter 00 · Welcome: reading where the database is."""

from __future__ import annotations

from workbook.exercises import PLACEHOLDER, Correct, Exercise, Incorrect, NotAttempted, Result
from workbook.exercises.checks import rebuild
from workbook.exercises.core import Alembic, Note
from workbook.exercises.inspect import workspace_current
from workbook.workspace import Workspace


class CurrentRevision(Exercise):
    title = "Which revision is the database at?"
    hints = [
        "Alembic records the revision of a database in the table `alembic_version`; "
        "one command prints it.",
        "Run `%alembic current`. The last line it prints is the answer.",
        "`%alembic current` prints the id, then ` (head)` when it is also the newest "
        'revision. `answer` is only the id, as a string, e.g. `answer = "0001"`.',
    ]
    solution_intro = (
        "Ask Alembic which revision is recorded in the database's `alembic_version` table:"
    )
    solution_steps = [
        Alembic("current"),
        Note(
            "The last line is the revision id, followed by `(head)` when it is the newest "
            "revision too. Store just the id, as a string; if it printed `0005 (head)`:"
        ),
        Note('```python\nanswer = "0005"\nq1.check(answer)\n```'),
    ]

    def _solve(self, workspace: Workspace) -> tuple:
        super()._solve(workspace)
        return (workspace_current(workspace)[0],)

    def _check(self, workspace: Workspace, *answer) -> Result:
        if len(answer) != 1:
            return Incorrect("give one answer: `q1.check(answer)`.")
        (value,) = answer
        if value is PLACEHOLDER:
            return NotAttempted("replace `____` by the revision id, then check again.")
        ids = workspace_current(workspace)
        if not ids:
            raise rebuild("the workspace's database has no revision yet")
        if isinstance(value, (list, tuple)) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str):
            return Incorrect(
                f'the answer should be the id as a string, e.g. "{ids[0]}" '
                f"with quotes, not {type(value).__name__} {value!r}."
            )
        text = value.strip()
        if text.lower() in {"head", "heads", "base"}:
            return Incorrect(
                f"alembic understands '{text.lower()}' as a target, but the "
                "question asks for the id: see `%alembic current`."
            )
        if text.endswith("(head)"):
            return Incorrect(
                "almost: `(head)` only says the revision is the newest one. "
                "Store just the id, without `(head)`."
            )
        if len(ids) > 1:
            if sorted(text.replace(",", " ").split()) == ids:
                return Correct(f"the database is at {' and '.join(ids)} (two heads).")
            return Incorrect(
                "the database is at more than one revision; `%alembic current` lists them all."
            )
        if text == ids[0]:
            return Correct(f"the database is at revision {ids[0]}; `alembic_version` records it.")
        return Incorrect(
            f"the database is not at {text!r}. Run `%alembic current` and copy the id it prints."
        )


q1 = CurrentRevision()
