"""The kinds of target secpolicy judges; every rule names one, every check says which it accepts."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    DOCKERFILE = "dockerfile"  # a Dockerfile stage (the one judged, and those its build runs)
    CONTEXT = "context"  # a build context: a Dockerfile's directory and the ignore file that applies
    POD = "pod"  # a pod spec or pod template, with its metadata
    CONTAINER = "container"  # one container of a pod
