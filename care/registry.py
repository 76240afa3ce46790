"""Departments register themselves with the hall (in their AppConfig.ready), so that the
hall routes requests to them without importing them."""

from dataclasses import dataclass
from datetime import timedelta

from django.apps import AppConfig
from django.utils.functional import Promise


@dataclass(frozen=True)
class Department:
    code: str
    label: Promise | str
    # How long the department has to take up a new request before it is overdue.
    response_time: timedelta
    # The URL name (POST, with the hall case's id) that opens the department's own file.
    file_url_name: str = ""


_departments: dict[str, Department] = {}


def register_department(department: Department) -> None:
    _departments[department.code] = department


def departments() -> list[Department]:
    return list(_departments.values())


def department(code: str) -> Department:
    return _departments[code]


def department_choices() -> list[tuple[str, Promise | str]]:
    return [(d.code, d.label) for d in _departments.values()]


class DepartmentAppConfig(AppConfig):
    """Base for department apps: ready() registers the department with the hall under the
    app's name, label and response time."""

    response_time = timedelta(days=3)
    file_url_name = ""

    def ready(self):
        register_department(Department(self.label, self.verbose_name, self.response_time, self.file_url_name))


@dataclass(frozen=True)
class NavLink:
    roles: frozenset[str]
    label: Promise | str
    url_name: str


_nav: list[NavLink] = []


def register_nav(*, roles: set[str], label, url_name: str) -> None:
    """A department's page in the hall's menu, for the given roles."""
    _nav.append(NavLink(frozenset(str(r) for r in roles), label, url_name))


def nav_for(roles: set[str]) -> list[NavLink]:
    return [link for link in _nav if link.roles & roles]


_walk_in_actions: list[NavLink] = []


def register_walk_in_action(*, label, url_name: str) -> None:
    """A button on the front desk's page of a found worker: ``url_name`` takes the worker's id
    (e.g. file a claim, book an appointment for them)."""
    _walk_in_actions.append(NavLink(frozenset(), label, url_name))


def walk_in_actions() -> list[NavLink]:
    return list(_walk_in_actions)


_file_checks: dict = {}


def register_file_check(department: str, has_file) -> None:
    """``has_file(case)`` tells whether the department keeps its own file for ``case``. A case
    with a file ends through the department (its lifecycle closes or withdraws the hall's case),
    never directly in the hall."""
    _file_checks[department] = has_file


def has_department_file(case) -> bool:
    check = _file_checks.get(case.department)
    return bool(check and check(case))


_demo_seeders: list = []


def register_demo_seeder(seed) -> None:
    """``seed(accounts)`` adds a department's demo data; ``accounts`` maps role → user."""
    _demo_seeders.append(seed)


def demo_seeders() -> list:
    return list(_demo_seeders)


@dataclass(frozen=True)
class Figure:
    """One of a department's own figures for the manager (care.figures). ``people`` is how many
    people the figure is about: below the hall's minimum group size it is not shown. A count of
    people is its own group (leave ``people`` out)."""

    label: Promise | str
    value: int | float | None
    unit: str = ""  # "" (a count), "days" or "%"
    people: int | None = None

    @property
    def group(self) -> int:
        return self.value if self.people is None else self.people


_figures: dict = {}


def register_figures(department: str, figures) -> None:
    """``figures(*, since, until)`` gives the department's own figures (a list of Figure) for
    the period [since, until) (aware datetimes), aggregated in the database: its deadlines past,
    its waiting times, its turnout. Never a person's data, only counts and their statistics."""
    _figures[department] = figures


def department_figures(department: str, *, since, until) -> list[Figure]:
    figures = _figures.get(department)
    return list(figures(since=since, until=until)) if figures else []
