"""Paths and users inside a rootfs: links never leave it; users and groups resolve as runc resolves them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from secpolicy.runtime.rootfs import RootfsError, resolve, user


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nsvc:x:999:998::/:/bin/false\n"
    )
    (tmp_path / "etc" / "group").write_text("root:x:0:\napp:x:1000:\nwheel:x:10:app,svc\nstaff:x:50:app\n")
    return tmp_path


def test_links_stay_inside(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("host") / "secret"
    outside.write_text("host")
    (root / "abs").symlink_to(outside)  # an absolute target starts again at the rootfs
    (root / "up").symlink_to("../../../../..")
    (root / "a").mkdir()
    (root / "a" / "b").symlink_to("/etc/passwd")
    assert resolve(root, "/abs") == root / str(outside).lstrip("/")
    assert resolve(root, "/up/etc/passwd") == root / "etc" / "passwd"
    assert resolve(root, "a/b") == root / "etc" / "passwd"
    assert resolve(root, "/../../etc/../etc/group") == root / "etc" / "group"
    (root / "loop").symlink_to("loop")
    with pytest.raises(RootfsError, match="too many levels"):
        resolve(root, "/loop")


def test_passwd_through_a_link_is_the_rootfs_own(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    host = tmp_path_factory.mktemp("hostetc") / "passwd"
    host.write_text("app:x:0:0::/:/bin/sh\n")  # a planted link to a host file would make app root
    (root / "etc" / "passwd").unlink()
    (root / "etc" / "passwd").symlink_to(host)
    with pytest.raises(RootfsError, match="unable to find user app"):
        user(root, "app")


@pytest.mark.parametrize(
    ("spec", "group_add", "expected"),
    [
        ("app", (), (1000, 1000, (10, 50), "/home/app", "app")),  # supplementary groups from /etc/group
        ("1000", (), (1000, 1000, (10, 50), "/home/app", "app")),  # a known uid: its passwd entry
        ("4242", (), (4242, 0, (), "/", None)),  # an unknown uid: gid 0, home /
        ("app:staff", (), (1000, 50, (), "/home/app", "app")),  # an explicit group: no supplementary ones
        ("svc:7", ("wheel", "33"), (999, 7, (10, 33), "/", "svc")),
        ("0", (), (0, 0, (), "/root", "root")),
    ],
)
def test_user_as_runc_resolves_it(
    root: Path, spec: str, group_add: tuple[str, ...], expected: tuple[object, ...]
) -> None:
    found = user(root, spec, group_add)
    assert (found.uid, found.gid, found.additional_gids, found.home, found.name) == expected


@pytest.mark.parametrize(
    ("spec", "group_add", "error"),
    [
        ("nobody", (), "unable to find user nobody"),
        ("app:nogroup", (), "unable to find group nogroup"),
        ("app", ("ghosts",), "unable to find group ghosts"),
    ],
)
def test_unknown_names_are_errors(root: Path, spec: str, group_add: tuple[str, ...], error: str) -> None:
    with pytest.raises(RootfsError, match=error):
        user(root, spec, group_add)


def test_a_fifo_or_a_device_as_passwd_is_no_account_and_never_blocks(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    os.mkfifo(root / "etc" / "passwd")  # opening it for reading would wait for a writer
    (root / "etc" / "group").symlink_to("/dev/zero")  # inside the rootfs: a dangling link, not the host's device
    with pytest.raises(RootfsError, match="unable to find user app"):
        user(root, "app")
    assert user(root, "1000").gid == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_device_node_as_passwd_is_never_opened(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    os.mknod(root / "etc" / "passwd", 0o644 | stat.S_IFCHR, os.makedev(1, 5))  # /dev/zero: reading never ends
    with pytest.raises(RootfsError, match="unable to find user app"):
        user(root, "app")
