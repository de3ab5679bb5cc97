"""Walker profiles: who walks on a station's belt.

Plain data (no Home Assistant import). A station's walkers are its config
subentries of type ``walker``; the coordinator turns each into a ``Walker``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .const import (
    CONF_BODY_MASS,
    CONF_EXPERIENCE,
    CONF_PERSON,
    CONF_WEEKLY_GOAL,
    DEFAULT_BODY_MASS,
    DEFAULT_WEEKLY_GOAL,
)
from .session import SPEED_CAP_KMH, Experience, finite


def name_key(name: str) -> str:
    """How walker names are compared: case and extra spaces ignored."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, kw_only=True)
class Walker:
    """One walker's profile."""

    walker_id: str
    name: str
    body_mass: float
    experience: Experience
    weekly_goal: float
    person: str | None = None

    @classmethod
    def from_data(cls, walker_id: str, name: str, data: Mapping[str, Any]) -> Walker:
        """A walker from a subentry's title and data (bad values get defaults)."""
        try:
            experience = Experience(str(data.get(CONF_EXPERIENCE)))
        except ValueError:
            experience = Experience.BEGINNER
        try:
            body_mass = finite(data.get(CONF_BODY_MASS))
        except TypeError, ValueError:
            body_mass = DEFAULT_BODY_MASS
        try:
            weekly_goal = finite(data.get(CONF_WEEKLY_GOAL))
        except TypeError, ValueError:
            weekly_goal = DEFAULT_WEEKLY_GOAL
        person = data.get(CONF_PERSON)
        return cls(
            walker_id=walker_id,
            name=name,
            body_mass=body_mass,
            experience=experience,
            weekly_goal=weekly_goal,
            person=str(person) if person else None,
        )

    @property
    def speed_cap(self) -> float:
        """The fastest backward belt speed allowed for this walker (km/h)."""
        return SPEED_CAP_KMH[self.experience]

    def same_person(self, other: Walker) -> bool:
        """Whether two profiles (maybe of two stations) are the same person.

        Profiles linked to a person entity are that person; others are known
        by their name.
        """
        if self.person and other.person:
            return self.person == other.person
        return name_key(self.name) == name_key(other.name)


def find_walker(walkers: Iterable[Walker], name_or_id: str) -> Walker | None:
    """The walker with this name (any case) or profile id, if there is one."""
    key = name_key(name_or_id)
    for walker in walkers:
        if walker.walker_id == name_or_id or name_key(walker.name) == key:
            return walker
    return None
