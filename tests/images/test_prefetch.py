"""Images named by the files are resolved once per run, ahead and a few at a time, when a registry is a source."""

from __future__ import annotations

from pathlib import Path

from fakeregistry import Registry, serving

from secpolicy import api
from secpolicy.images.prefetch import references


def test_references_are_literal_and_leave_stages_out(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE=alpine\nFROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM ${BASE}\n"
        "from build AS again\nFROM scratch\nFROM gcr.io/distroless/static:nonroot\n"
    )
    (tmp_path / "pod.yaml").write_text(
        "spec:\n  containers:\n  - name: a\n    image: nginx:1.27\n  - image: 'redis:7'  # cache\n"
        "    name: b\n  - {name: c, image: x}\n  - image: ${IMAGE}\n"
    )
    refs = references([tmp_path / "Dockerfile", tmp_path / "pod.yaml", tmp_path / "missing"])
    assert refs == ["golang:1.22", "gcr.io/distroless/static:nonroot", "nginx:1.27", "redis:7"]


def test_many_dockerfiles_one_request_per_image(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker"))
    with serving(Registry()) as reg:
        reg.add_image("team/base", "1", {"config": {"User": "1000"}})
        reg.add_image("team/other", "2", {"config": {"User": ""}})
        for i in range(6):
            (tmp_path / f"s{i}").mkdir()
            (tmp_path / f"s{i}" / ".dockerignore").write_text("x\n")
            base = "team/base:1" if i % 2 else "team/other:2"
            (tmp_path / f"s{i}" / "Dockerfile").write_text(f"FROM {reg.host}/{base}\nRUN true\n")
        report = api.lint([tmp_path], api.Settings(images=["registry"], select=["DF101"]))
    tags = [s.path for s in reg.seen if s.path.endswith(("/manifests/1", "/manifests/2"))]
    assert sorted(tags) == ["/v2/team/base/manifests/1", "/v2/team/other/manifests/2"]
    assert len(report.findings) == 3  # the three Dockerfiles on team/other (root); team/base runs as 1000


def test_a_cold_cache_is_filled_a_few_images_at_a_time(tmp_path: Path, monkeypatch) -> None:
    import threading

    from secpolicy.config import Config
    from secpolicy.images.prefetch import WORKERS, prefetch
    from secpolicy.images.registry import RegistryClient
    from secpolicy.images.sources import REGISTRY, ImageSources, SourceSpec
    from secpolicy.resolve.images import ImageResolver

    lock, now, most = threading.Lock(), [0], [0]
    real = RegistryClient.config

    def counted(self, ref):  # concurrency as the client sees it: lookups in flight at once
        with lock:
            now[0] += 1
            most[0] = max(most[0], now[0])
        try:
            return real(self, ref)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(RegistryClient, "config", counted)
    with serving(Registry(delay=0.05)) as reg:
        refs = [f"{reg.host}/team/app{i}:1" for i in range(20)]
        for i in range(20):
            reg.add_image(f"team/app{i}", "1", {"config": {"User": str(1000 + i)}}, platforms=False)
        resolver = ImageResolver(Config(), sources=ImageSources([SourceSpec(REGISTRY)], cache_root=tmp_path))
        prefetch(resolver, refs)
    assert 1 < most[0] <= WORKERS  # concurrent, and bounded
    assert [resolver.user(ref).uid for ref in refs] == [1000 + i for i in range(20)]


def test_answers_from_the_cache_are_read_in_line_and_a_slow_one_sends_the_rest_to_threads(monkeypatch) -> None:
    import threading
    import time

    from secpolicy.images import prefetch as module

    seen: list[tuple[str, bool]] = []

    class Resolver:
        def image(self, ref: str) -> None:
            seen.append((ref, threading.current_thread() is threading.main_thread()))
            if ref == "slow":
                time.sleep(module.IN_LINE * 2)

    module.prefetch(Resolver(), ["a", "b", "c"])  # type: ignore[arg-type]
    assert seen == [("a", True), ("b", True), ("c", True)]
    seen.clear()
    module.prefetch(Resolver(), ["a", "slow", "c", "d"])  # type: ignore[arg-type]
    assert seen[:2] == [("a", True), ("slow", True)]
    assert sorted(seen[2:]) == [("c", False), ("d", False)]
