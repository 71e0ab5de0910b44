"""What ``import-dvc`` did: plain dataclasses (the CLI renders them, --json dumps them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Workspace = Literal["clean", "restored", "present", "differs", "absent", ""]


@dataclass(frozen=True, slots=True)
class ImportedOutput:
    """A DVC output now tracked by a gitml pointer (or, in a dry run, that would be)."""

    path: str
    kind: str  # file | dir
    oid: str  # "" in a dry run
    size: int
    nfiles: int
    source: str  # the DVC file that recorded it
    changed: bool  # the pointer was (would be) written; False: it already said this
    workspace: Workspace = ""
    # clean: the data is there and was verified (gitml status is clean at once);
    # restored: it was missing and was written from the cache; present: there, not re-read;
    # differs: it is not what DVC recorded (kept; gitml status shows it); absent: left missing.


@dataclass(frozen=True, slots=True)
class ConvertedStage:
    """A DVC stage now (or, in a dry run, to be) a stage of gitml.yaml."""

    name: str  # in gitml.yaml
    dvc_name: str
    source: str  # its dvc.yaml
    changed: bool  # written into gitml.yaml by this run
    locked: bool  # gitml.lock records it up to date (DVC's last run still holds)
    reason: str = ""  # why it is not locked: it runs on the next gitml repro


@dataclass(frozen=True, slots=True)
class NotConverted:
    what: str  # an output path, or "stage NAME"
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class Carried:
    """A DVC feature carried over, and what it became in gitml."""

    feature: str  # artifact | metrics | plot | params | import | frozen stage | experiment
    name: str
    became: str


@dataclass
class ImportResult:
    imported: list[ImportedOutput] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # files found in no cache nor remote
    stages: list[ConvertedStage] = field(default_factory=list)
    not_converted: list[NotConverted] = field(default_factory=list)
    removed_from_index: list[str] = field(default_factory=list)  # DVC files (kept on disk)
    staged: list[str] = field(default_factory=list)
    fetched: int = 0  # objects DVC downloaded from the remote
    to_fetch: int = 0  # dry run: objects that would be fetched
    notes: list[str] = field(default_factory=list)  # what is not carried over
    carried: list[Carried] = field(default_factory=list)  # DVC features and what they became
    dry_run: bool = False
