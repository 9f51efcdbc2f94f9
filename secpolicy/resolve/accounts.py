"""Users a RUN step creates or changes: ``useradd``, ``adduser``, ``usermod``, ``/etc/passwd`` lines.

So that a later ``USER name`` has a uid, and a user made with uid 0 under
another name (``useradd -ou 0 admin``) is known to be root.  Options are read
the way each tool reads them:

* shadow-utils ``useradd``/``usermod``: GNU getopt, so short options combine
  (``-mou 0``, ``-u0``), long options take ``--uid N`` or ``--uid=N`` and may
  be abbreviated (``--ui``), and operands may come before options;
* BusyBox ``adduser`` (Alpine): ``-u UID``, ``-G GROUP``, ``-g GECOS``, ...;
* Debian's ``adduser``: long options (``--uid``, ``--gid``, ``--ingroup``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from secpolicy.dockerfile.instructions import Instruction
from secpolicy.resolve.user import numeric
from secpolicy.shell.invocations import invocations, unwrap


@dataclass(frozen=True)
class Account:
    """What a step says of one account; ``None``/empty for what it leaves as it was."""

    name: str
    uid: int | None
    gid: int | None
    groups: frozenset[str] = frozenset()  # group names it is made a member of (primary included)

    def merged(self, older: Account | None) -> Account:
        if older is None:
            return self
        return Account(
            self.name,
            self.uid if self.uid is not None else older.uid,
            self.gid if self.gid is not None else older.gid,
            self.groups | older.groups,
        )


@dataclass(frozen=True)
class _Syntax:
    short_value: str
    short_flags: str
    long_value: frozenset[str]
    long_flags: frozenset[str]


_USERADD = _Syntax(
    short_value="bcdefgGkKpPRsuZ",
    short_flags="DhlmMNorU",
    long_value=frozenset(
        {
            "base-dir",
            "comment",
            "home-dir",
            "expiredate",
            "inactive",
            "gid",
            "groups",
            "skel",
            "key",
            "password",
            "root",
            "prefix",
            "shell",
            "uid",
            "selinux-user",
            "selinux-range",
        }
    ),
    long_flags=frozenset(
        {
            "btrfs-subvolume-home",
            "defaults",
            "help",
            "no-log-init",
            "create-home",
            "no-create-home",
            "no-user-group",
            "non-unique",
            "system",
            "user-group",
            "add-subids-for-system",
        }
    ),
)
_USERMOD = _Syntax(
    short_value="cdefgGlpPRsuvVwWZ",
    short_flags="aAhLmorU",
    long_value=frozenset(
        {
            "comment",
            "home",
            "expiredate",
            "inactive",
            "gid",
            "groups",
            "login",
            "password",
            "root",
            "prefix",
            "shell",
            "uid",
            "add-subuids",
            "del-subuids",
            "add-subgids",
            "del-subgids",
            "selinux-user",
            "selinux-range",
        }
    ),
    long_flags=frozenset({"append", "remove", "help", "lock", "move-home", "non-unique", "unlock"}),
)
_BUSYBOX_ADDUSER = _Syntax(
    short_value="hgsGuk",
    short_flags="DSH",
    long_value=frozenset({"home", "gecos", "shell", "ingroup", "uid", "empty-password"}),
    long_flags=frozenset({"system", "disabled-password", "no-create-home"}),
)
_DEBIAN_ADDUSER = _Syntax(
    short_value="",
    short_flags="qDh",
    long_value=frozenset(
        {
            "uid",
            "gid",
            "home",
            "shell",
            "ingroup",
            "gecos",
            "comment",
            "firstuid",
            "lastuid",
            "firstgid",
            "lastgid",
            "conf",
            "key",
            "extrausers",
        }
    ),
    long_flags=frozenset(
        {
            "system",
            "group",
            "disabled-password",
            "disabled-login",
            "no-create-home",
            "quiet",
            "debug",
            "force-badname",
            "allow-bad-names",
            "allow-all-names",
            "add-extra-groups",
            "add_extra_groups",
            "verbose",
            "help",
            "version",
        }
    ),
)
# options only Debian's adduser has: they tell the two adduser programs apart
_DEBIAN_ONLY = frozenset({"gid", "ingroup", "gecos", "disabled-password", "disabled-login", "firstuid", "group"})
_PASSWD_LINE = re.compile(r"(?m)(?:^|[\s'\"])([A-Za-z_][A-Za-z0-9_.-]*):[^:\s'\"]*:([0-9]{1,10}):([0-9]{1,10}):")


def _long_name(word: str, syntax: _Syntax) -> tuple[str | None, bool]:
    """The long option ``word`` names (GNU allows unique abbreviations), and whether it takes a value."""
    known = syntax.long_value | syntax.long_flags
    if word in known:
        return word, word in syntax.long_value
    candidates = [k for k in known if k.startswith(word)]
    if len(candidates) == 1:
        return candidates[0], candidates[0] in syntax.long_value
    return None, False


def _getopt(args: Sequence[str], syntax: _Syntax) -> tuple[list[tuple[str, str | None]], list[str]]:
    options: list[tuple[str, str | None]] = []
    operands: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            operands.extend(args[i:])
            break
        if arg.startswith("--"):
            key, eq, value = arg[2:].partition("=")
            name, takes = _long_name(key, syntax)
            if name is None:
                continue
            if takes and not eq:
                value = args[i] if i < len(args) else ""
                i += 1
            options.append((name, value if takes else None))
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                j += 1
                if ch in syntax.short_value:
                    value = arg[j:] if j < len(arg) else (args[i] if i < len(args) else "")
                    if j >= len(arg):
                        i += 1
                    options.append((ch, value))
                    break
                options.append((ch, None))
        else:
            operands.append(arg)
    return options, operands


_GROUP_KEYS = frozenset({"g", "gid", "G", "groups", "ingroup"})


def _account(
    options: list[tuple[str, str | None]], operands: list[str], uid_keys: set[str], gid_keys: set[str]
) -> Account | None:
    if not operands or "$" in operands[0]:
        return None
    uid = gid = None
    groups: set[str] = set()
    for key, value in options:
        if value is None:
            continue
        if key in uid_keys:
            uid = numeric(value)
        elif key in gid_keys:
            gid = numeric(value)
        if key in _GROUP_KEYS and key not in uid_keys:
            groups.update(g for g in value.split(",") if g and numeric(g) is None)
    return Account(operands[0], uid, gid, frozenset(groups))


def _from_invocation(name: str, args: Sequence[str]) -> Account | None:
    if name == "useradd":
        options, operands = _getopt(args, _USERADD)
        return _account(options, operands, {"u", "uid"}, {"g", "gid"})
    if name == "usermod":
        options, operands = _getopt(args, _USERMOD)
        return _account(options, operands[-1:], {"u", "uid"}, {"g", "gid"})
    if name == "gpasswd":
        for i, arg in enumerate(args[:-1]):
            if arg in ("-a", "--add") and i + 2 < len(args):
                return Account(args[i + 1], None, None, frozenset({args[i + 2]}))
        return None
    if name == "addgroup" and len([a for a in args if not a.startswith("-")]) == 2:
        user, group = [a for a in args if not a.startswith("-")]
        return Account(user, None, None, frozenset({group}))  # "addgroup USER GROUP" adds a member
    if name == "adduser":
        debian = any(a.startswith("--") and a[2:].partition("=")[0] in _DEBIAN_ONLY for a in args)
        if debian or (args and all(not a.startswith("-") or a.startswith("--") for a in args) and len(args) > 1):
            options, operands = _getopt(args, _DEBIAN_ADDUSER)
            if len(operands) >= 2:
                # "adduser USER GROUP" adds an existing user to a group
                return Account(operands[0], None, None, frozenset({operands[1]}))
            return _account(options, operands, {"uid"}, {"gid"})
        options, operands = _getopt(args, _BUSYBOX_ADDUSER)
        if len(operands) >= 2:
            return Account(operands[0], None, None, frozenset({operands[1]}))
        return _account(options, operands[:1], {"u", "uid"}, set())
    return None


def _scripts(inst: Instruction) -> Iterator[tuple[str, object]]:
    if inst.is_json:
        yield " ".join(inst.args), unwrap(inst.args)
        return
    text = inst.args[0] if inst.args else ""
    yield text, None
    for doc in inst.heredocs:
        yield doc.content, None


def accounts_created(inst: Instruction) -> list[Account]:
    """Accounts a RUN instruction creates or whose uid it changes, in order."""
    out: list[Account] = []
    for text, invs in _scripts(inst):
        if not any(tool in text for tool in ("useradd", "adduser", "usermod", "gpasswd", "addgroup", "/etc/passwd")):
            continue
        for inv in invs if invs is not None else invocations(text):  # type: ignore[attr-defined]
            account = _from_invocation(inv.name, inv.args)
            if account is not None:
                out.append(account)
        if "/etc/passwd" in text:
            for match in _PASSWD_LINE.finditer(text):
                out.append(Account(match.group(1), int(match.group(2)), int(match.group(3))))
    return out
