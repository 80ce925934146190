"""A custom correlation strategy: match an employee number embedded in the identifier.

Run it: ``python examples/custom_strategy.py``. The docs page "Writing a
correlation strategy" shows the marked parts; a unit test runs this file.
"""

# --- strategy: start
import re

from attrs import frozen

from cisync_lib import SnUser
from cisync_lib.correlation import (
    Correlator,
    InMemoryUserDirectory,
    LookupKey,
    ParsedName,
    StrategyOutcome,
)
from cisync_lib.typing import CandidateIndex

NUMBER = re.compile(r"(?<![0-9])e([0-9]{6})(?![0-9])")  # "e004711" anywhere in the name


@frozen
class EmployeeNumberStrategy:
    """``sys_user.employee_number`` equals the number embedded in the identifier."""

    name: str = "employee_number"
    confidence: float = 0.95

    def applies_to(self, parsed: ParsedName) -> bool:
        return parsed.skip_reason is None and NUMBER.search(parsed.normalized) is not None

    def lookup_keys(self, parsed: ParsedName) -> tuple[LookupKey, ...]:
        found = NUMBER.search(parsed.normalized)
        return (LookupKey(field="employee_number", value=found.group(1)),) if found else ()

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        return StrategyOutcome.from_keys(self, parsed, index, self.lookup_keys(parsed))


# --- strategy: end


def make_strategy(context: object) -> EmployeeNumberStrategy:
    """The entry-point factory: called with a StrategyContext (unused here)."""
    return EmployeeNumberStrategy()


def main() -> None:
    users = [
        SnUser(sys_id="a1", user_name="jdoe", extra={"employee_number": "004711"}),
        SnUser(sys_id="b2", user_name="asmith", extra={"employee_number": "004712"}),
    ]
    # --- plug-in: start
    correlator = Correlator(strategies=["email_upn", EmployeeNumberStrategy()])
    names = ["jdoe", "E004712@contractors.example", "e999999@contractors.example"]
    for result in correlator.resolve(names, InMemoryUserDirectory(users)):
        print(result.input.raw, result.status.value, result.reason.value, result.strategy)
    # --- plug-in: end


if __name__ == "__main__":
    main()
