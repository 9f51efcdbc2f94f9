from __future__ import annotations

import pytest

from secpolicy.shell.invocations import invocations, shell_script


def names(script: str) -> list[str]:
    return [inv.name for inv in invocations(script)]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("apt-get update && sudo apt-get install -y curl", ["apt-get", "sudo", "apt-get"]),
        ("env A=1 /usr/bin/sudo -u root id", ["env", "sudo", "id"]),
        ("exec command sudo x", ["exec", "command", "sudo", "x"]),
        ("sh -ec 'doas y; z'", ["sh", "doas", "y", "z"]),
        ("echo $(sudo id) `doas w`", ["echo", "sudo", "id", "doas", "w"]),
        ("ls | xargs -n1 -I{} sudo rm {}", ["ls", "xargs", "sudo", "rm"]),
        ("find / -exec chmod u+s {} \\;", ["find", "chmod"]),
        ("if true; then sudo x; fi", ["true", "sudo", "x"]),
        ("A=1 B=2 sudo x", ["sudo", "x"]),
        ("echo sudo # sudo in a comment", ["echo"]),
        ("command -v sudo", ["command"]),
        ("timeout 5 nice -n 10 sudo x", ["timeout", "nice", "sudo", "x"]),
        ("cat > /etc/sudoers <<EOF", ["cat"]),
        ("echo 'sudo x' \"sudo y\"", ["echo"]),
        ("(cd /x && sudo make)", ["cd", "sudo", "make"]),
    ],
)
def test_program_names(script: str, expected: list[str]) -> None:
    assert names(script) == expected


def test_arguments_are_unquoted() -> None:
    [inv] = list(invocations("setcap 'cap_net_raw+ep cap_net_admin+ep' \"/usr/bin/x\""))
    assert inv.args == ("cap_net_raw+ep cap_net_admin+ep", "/usr/bin/x")


def test_offsets_point_at_commands() -> None:
    script = "apt-get update\nsudo x"
    offsets = [inv.offset for inv in invocations(script) if inv.name == "sudo"]
    assert offsets == [script.index("sudo")]


def test_shell_script_flags() -> None:
    assert shell_script("bash", ["-euxo", "pipefail", "-c", "x"]) == "x"
    assert shell_script("bash", ["script.sh"]) is None
    assert shell_script("sh", ["-c", "x"]) == "x"
    assert shell_script("bash", ["-ec", "y"]) == "y"
    assert shell_script("python3", ["-c", "z"]) is None
    assert shell_script("busybox", ["sh", "-c", "w"]) == "w"
