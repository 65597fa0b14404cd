"""What ``apirec drift`` found, per type: problems with counts and an example file, and the
package versions each type was recorded with against the version installed now."""

from __future__ import annotations

import importlib.metadata
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from apirec.codec.drift import Checked
from apirec.codec.drift_findings import NOT_CHECKED, VALIDATION, Finding

UNKNOWN_VERSION = "unknown"
_SAME_VERSION = "; recorded with the installed version, so not drift"


@dataclass
class Problem:
    """One kind of problem at one field of one type, over every value that has it."""

    finding: Finding  # the first one seen: its detail is the example's
    values: int = 0
    files: set[str] = field(default_factory=set)
    example: str = ""

    def as_json(self) -> dict[str, Any]:
        f = self.finding
        return {
            "kind": f.kind,
            "field": f.field,
            "detail": f.detail,
            "breaks_replay": f.breaks,
            "values": self.values,
            "files": len(self.files),
            "example": self.example,
        }


@dataclass
class TypeReport:
    name: str
    values: int = 0
    files: set[str] = field(default_factory=set)
    recorded: Counter[str] = field(default_factory=Counter)  # package version -> files
    problems: dict[tuple[str, str, bool], Problem] = field(default_factory=dict)

    @property
    def package(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def checked(self) -> bool:
        return not any(k == NOT_CHECKED for k, _, _ in self.problems)

    @property
    def breaks(self) -> bool:
        return any(p.finding.breaks for p in self.problems.values())


@dataclass
class Report:
    trusted: tuple[str, ...]
    recordings: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    types: dict[str, TypeReport] = field(default_factory=dict)
    # values that do not validate in files that do not say what version recorded them
    unversioned_breaks: int = 0
    _installed: dict[str, str | None] = field(default_factory=dict)

    def add(self, where: str, versions: Any, checked: list[Checked]) -> None:
        """The typed values of one recording (``where``), recorded with ``versions``."""
        self.recordings += 1
        seen: dict[str, str] = {}  # type name -> recorded version, once per file
        for name, findings in checked:
            report = self.types.get(name)
            if report is None:
                report = self.types[name] = TypeReport(name)
            report.values += 1
            version = seen.get(name)
            if version is None:
                version = seen[name] = recorded_version(versions, name)
                report.files.add(where)
                report.recorded[version] += 1
            for finding in findings:
                if (
                    finding.breaks
                    and finding.kind in VALIDATION
                    and version == self.installed(name)
                ):
                    finding = replace(finding, detail=finding.detail + _SAME_VERSION, breaks=False)
                elif finding.breaks and finding.kind in VALIDATION and version == UNKNOWN_VERSION:
                    self.unversioned_breaks += 1
                key = (finding.kind, finding.field, finding.breaks)
                problem = report.problems.get(key)
                if problem is None:
                    problem = report.problems[key] = Problem(finding, example=where)
                problem.values += 1
                problem.files.add(where)

    @property
    def breaks(self) -> bool:
        return bool(self.unreadable) or any(t.breaks for t in self.types.values())

    def installed(self, name: str) -> str | None:
        """The installed version of the distribution that provides type ``name``, if any."""
        top = name.split(".", 1)[0]
        if top not in self._installed:
            self._installed[top] = installed_version(name)
        return self._installed[top]

    def as_json(self, imported: list[str]) -> dict[str, Any]:
        return {
            "recordings": self.recordings,
            "trusted": list(self.trusted),
            "imported": imported,
            "breaks_replay": self.breaks,
            "unreadable": [{"file": f, "error": why} for f, why in self.unreadable],
            "types": [self._type_json(t) for _, t in sorted(self.types.items())],
        }

    def _type_json(self, report: TypeReport) -> dict[str, Any]:
        return {
            "type": report.name,
            "package": report.package,
            "checked": report.checked,
            "breaks_replay": report.breaks,
            "values": report.values,
            "files": len(report.files),
            "recorded_versions": dict(sorted(report.recorded.items())),
            "installed_version": self.installed(report.name),
            "problems": [p.as_json() for p in ordered(report)],
        }


def ordered(report: TypeReport) -> list[Problem]:
    """Problems that break replay first, then by how many values have them."""
    return sorted(
        report.problems.values(),
        key=lambda p: (not p.finding.breaks, -p.values, p.finding.kind, p.finding.field),
    )


def recorded_version(versions: Any, name: str) -> str:
    """The version a recording's ``versions`` gives for the package of type ``name``."""
    if not isinstance(versions, dict):
        return UNKNOWN_VERSION
    parts = name.split("[", 1)[0].split(".")[:-1]
    for n in range(len(parts), 0, -1):  # "google.genai" before "google"
        prefix = ".".join(parts[:n])
        for key in (prefix, prefix.replace(".", "-")):
            value = versions.get(key)
            if isinstance(value, str):
                return value
    return UNKNOWN_VERSION


def installed_version(name: str) -> str | None:
    """The installed version of the package of type ``name``, from its metadata (nothing is
    imported): the distribution named like a module prefix, else the only one providing it."""
    parts = name.split("[", 1)[0].split(".")[:-1]
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        for dist in dict.fromkeys((prefix, prefix.replace(".", "-"), prefix.replace("_", "-"))):
            try:
                return importlib.metadata.version(dist)
            except (importlib.metadata.PackageNotFoundError, ValueError):
                continue
    if not parts:
        return None
    providers = importlib.metadata.packages_distributions().get(parts[0], [])
    if len(set(providers)) == 1:
        try:
            return importlib.metadata.version(providers[0])
        except importlib.metadata.PackageNotFoundError:
            return None
    return None
