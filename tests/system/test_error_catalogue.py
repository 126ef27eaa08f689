"""docs/errors.md agrees with the code: every error message a runtime can get from the
macvlan and dhcp plugins (the dhcp daemon's answers included) is catalogued there with
its CNI code, and every catalogued message still exists.

No root, no network: this reads src/ and docs/errors.md only.

    /usr/bin/python3 -m pytest tests/system/test_error_catalogue.py

What counts as a message is read from the C sources (BUILDERS below): the format
strings of cni_error_set / cni_error_details / cni_error_prefix, and the few helpers
that build a runtime's message another way (the DHCP engine's failure stories, the
reasons it drops replies for, the daemon's "permission denied: <what>"). A format is
compared with a catalogue entry after every printf directive and every <placeholder>
has been turned into one wildcard, runs of them into one.

When this fails, it names each message that is missing, with its file, line, code and
the list item to paste into docs/errors.md; or each entry that no longer matches a
message in the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SRC = REPO_ROOT / "src"
CATALOGUE = REPO_ROOT / "docs" / "errors.md"
ERROR_H = SRC / "cni" / "error.h"

# Files whose errors never reach a runtime, with why. Everything else under src/ is read.
EXCLUDED = {
    "src/install/": "cni-install's refusals go to the installer's stderr (docs/deploy.md), not to a runtime",
    "src/cni/cache.c": "the runtimes' CNI cache is read at daemon start (adopt.c); its errors are logged at debug only",
    "src/dhcpd/restore.c": "a record that cannot be restored is logged by the daemon, not returned to a caller",
    "src/doctor/": "`dhcp doctor` reports to the operator on its terminal, not to a runtime",
}


@dataclass(frozen=True)
class Builder:
    """A function whose format argument becomes (part of) a message a runtime sees."""

    name: str
    fmt_arg: int
    kind: str = "message"  # or "details"
    code_arg: int | None = None
    files: frozenset[str] | None = None  # only in these files (repo-relative); None: all
    when: Callable[[list[str]], bool] | None = None  # only calls whose arguments pass
    # The whole message the format is part of ("{}" is the format); a cni_error_set in
    # the builder's own body, making that message, is then not read on its own.
    template: str = "{}"
    code_name: str | None = None  # the code of every message it makes, when the builder fixes it


BUILDERS = [
    Builder("cni_error_set", fmt_arg=2, code_arg=1),
    Builder("cni_error_details", fmt_arg=1, kind="details"),
    # "IPAM plugin dhcp result: ...", "prevResult: ...": put in front of a message.
    Builder("cni_error_prefix", fmt_arg=1, template="{}: %s"),
    # The daemon's refusals of a --socket-group member.
    Builder("refuse_member", fmt_arg=1, files=frozenset({"src/dhcpd/methods.c"}),
            template="permission denied: {}", code_name="CNI_ERR_DAEMON"),
    # The DHCP engine's failure story, the daemon's "%s on %s (pod netns %s)": fail()'s
    # story, the DHCP_EVENT_FAILED reason around it, and why replies were dropped.
    Builder("snprintf", fmt_arg=2, files=frozenset({"src/dhcp4/client.c"}),
            when=lambda args: args[0].strip() == "story", code_name="CNI_ERR_DHCP"),
    Builder("emit", fmt_arg=2, files=frozenset({"src/dhcp4/client.c"}),
            when=lambda args: args[1].strip() == "DHCP_EVENT_FAILED", code_name="CNI_ERR_DHCP"),
    Builder("drop", fmt_arg=2, files=frozenset({"src/dhcp4/client.c"}), code_name="CNI_ERR_DHCP"),
]

# Functions whose returned strings complete a message ("invalid CNI_IFNAME ...: it <reason>",
# "DHCPOFFER of <address> unusable: <why>", "malformed: <why>"): each string they return
# must be in docs/errors.md, in a code span anywhere.
REASONS = {
    "src/cni/env.c": ["cni_ifname_invalid"],
    "src/dhcp4/lease.c": ["dhcp_lease_from_message", "dhcp_lease_address_unusable"],
    "src/dhcp4/options.c": ["dhcp_address_reserved"],
    "src/dhcp4/message.c": ["dhcp_parse_error_name"],
}
# What those functions return that no message shows (the parser's "no error").
NOT_SHOWN = {"ok", "?"}

# A printf conversion, as C99 and glibc have them.
DIRECTIVE = re.compile(r"%(?:[-+ #0']*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|j|z|t|L|q)?[diouxXeEfFgGaAcspnm])")
PLACEHOLDER = re.compile(r"<[^<>`]*>")
WILDCARD = "\x00"
C_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "?": "?", "a": "\a", "0": "\0"}


@dataclass
class CodeMessage:
    where: str  # file:line
    builder: str
    kind: str
    text: str  # the format, C escapes decoded
    code: int | None  # None when not a constant (passed on from elsewhere)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = canonical_c(self.text)


@dataclass
class DocEntry:
    line: int
    kind: str
    text: str
    codes: list[int]
    said: str | None  # what the parentheses after the message say; None without them
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = canonical_doc(self.text)


# ---- both sides to one form ----

def collapse(text: str) -> str:
    text = re.sub(WILDCARD + "+", WILDCARD, text)
    return " ".join(text.split())


def printf_tokens(fmt: str) -> list[tuple[bool, str]]:
    """A C format as (is a directive, text) pieces, "%%" read as a literal "%"."""
    out, i = [], 0
    while i < len(fmt):
        if fmt.startswith("%%", i):
            out.append((False, "%"))
            i += 2
            continue
        m = DIRECTIVE.match(fmt, i)
        if m:
            out.append((True, m.group(0)))
            i = m.end()
            continue
        out.append((False, fmt[i]))
        i += 1
    return out


def canonical_c(fmt: str) -> str:
    return collapse("".join(WILDCARD if directive else text for directive, text in printf_tokens(fmt)))


def canonical_doc(pattern: str) -> str:
    return collapse(PLACEHOLDER.sub(WILDCARD, pattern))


def readable(fmt: str) -> str:
    """A C format the way docs/errors.md writes it: directives as <?>, to be named."""
    return "".join("<?>" if directive else text for directive, text in printf_tokens(fmt))


# ---- reading C ----

def blank_comments(src: str) -> str:
    """Comments become spaces (newlines kept, so line numbers hold); literals are kept."""
    out, i, n = [], 0, len(src)
    while i < n:
        if src.startswith("/*", i):
            j = src.index("*/", i + 2) + 2
            out.append("".join(c if c == "\n" else " " for c in src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src[i] in "\"'":
            j = literal_end(src, i)
            out.append(src[i:j])
            i = j
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


def literal_end(src: str, i: int) -> int:
    quote, j = src[i], i + 1
    while src[j] != quote:
        j += 2 if src[j] == "\\" else 1
    return j + 1


def call_arguments(src: str, open_paren: int) -> list[str]:
    """The top-level arguments of the call whose '(' is at open_paren."""
    args, cur, depth, j = [], [], 0, open_paren
    while True:
        c = src[j]
        if c in "\"'":
            k = literal_end(src, j)
            cur.append(src[j:k])
            j = k
            continue
        if c in "([{":
            depth += 1
            if depth == 1:
                j += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur))
                return args
        elif c == "," and depth == 1:
            args.append("".join(cur))
            cur = []
            j += 1
            continue
        cur.append(c)
        j += 1


def decode_literal(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            nxt = body[i + 1]
            if nxt == "x":
                m = re.match(r"[0-9a-fA-F]+", body[i + 2:])
                out.append(chr(int(m.group(0), 16)))
                i += 2 + len(m.group(0))
                continue
            out.append(C_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(body[i])
        i += 1
    return "".join(out)


STRING_CONCAT = re.compile(r'\s*(?:"(?:[^"\\]|\\.)*"\s*)+', re.S)


def string_constant(expr: str) -> str | None:
    """The value of an expression made only of adjacent string literals, else None."""
    if not STRING_CONCAT.fullmatch(expr):
        return None
    return "".join(decode_literal(m.group(1)) for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', expr))


def string_literals(expr: str) -> list[str]:
    return [decode_literal(m.group(1)) for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', expr)]


def error_codes() -> dict[str, int]:
    text = ERROR_H.read_text()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"\b(CNI_\w+)\s*=\s*(\d+)", text)}


def excluded(rel: str) -> bool:
    return any(rel == e or (e.endswith("/") and rel.startswith(e)) for e in EXCLUDED)


def is_definition(src: str, name_at: int) -> bool:
    """The function's own definition or declaration, not a call."""
    return bool(re.search(r"\b(?:int|void|bool|char)\s*\**\s*$", src[:name_at].rsplit("\n", 1)[-1]))


def body_of(src: str, open_paren: int) -> range:
    """The span of the body of the function defined at open_paren."""
    start = src.index("{", open_paren)
    depth, j = 0, start
    while True:
        if src[j] in "\"'":
            j = literal_end(src, j)
            continue
        depth += {"{": 1, "}": -1}.get(src[j], 0)
        if depth == 0:
            return range(start, j)
        j += 1


def code_messages() -> tuple[list[CodeMessage], list[str]]:
    """Every message the code can give a runtime, and the call sites that cannot be read."""
    codes = error_codes()
    messages, unreadable = [], []
    for path in sorted(SRC.rglob("*.c")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        if excluded(rel):
            continue
        src = blank_comments(path.read_text())
        # Bodies of builders with a template: the message their cni_error_set makes is the
        # template's, read at each call of the builder.
        skip = [body_of(src, m.end() - 1) for b in BUILDERS if b.template != "{}" and b.files and rel in b.files
                for m in re.finditer(r"\b" + re.escape(b.name) + r"\s*\(", src) if is_definition(src, m.start())]
        for b in BUILDERS:
            if b.files is not None and rel not in b.files:
                continue
            for m in re.finditer(r"\b" + re.escape(b.name) + r"\s*\(", src):
                if is_definition(src, m.start()) or (b.name == "cni_error_set" and any(m.start() in r for r in skip)):
                    continue
                args = call_arguments(src, m.end() - 1)
                where = f"{rel}:{src.count(chr(10), 0, m.start()) + 1}"
                if b.when and not b.when(args):
                    continue
                fmt = string_constant(args[b.fmt_arg])
                if fmt is None:
                    unreadable.append(f"{where}: {b.name}(...) with the format {args[b.fmt_arg].strip()!r}")
                    continue
                code = codes[b.code_name] if b.code_name else None
                if b.code_arg is not None:
                    code = codes.get(args[b.code_arg].strip())
                if canonical_c(fmt) == WILDCARD:
                    # "%s": a message passed on (another plugin's, the daemon's); only
                    # the literals among its arguments are messages of ours.
                    for extra in args[b.fmt_arg + 1:]:
                        messages += [CodeMessage(where, b.name, b.kind, s, code) for s in string_literals(extra)]
                    continue
                messages.append(CodeMessage(where, b.name, b.kind, b.template.replace("{}", fmt), code))
    return messages, unreadable


RETURN_STRING = re.compile(r'\breturn\s+((?:"(?:[^"\\]|\\.)*"\s*)+);')


def reason_strings() -> tuple[list[tuple[str, str]], list[str]]:
    """(file:function, string) for every string REASONS' functions return; functions not found."""
    found, missing = [], []
    for rel, functions in REASONS.items():
        src = blank_comments((REPO_ROOT / rel).read_text())
        for name in functions:
            defs = [m for m in re.finditer(r"\b" + re.escape(name) + r"\s*\(", src) if is_definition(src, m.start())]
            if not defs:
                missing.append(f"{rel}: {name}")
                continue
            body = body_of(src, defs[0].end() - 1)
            for m in RETURN_STRING.finditer(src, body.start, body.stop):
                text = string_constant(m.group(1))
                if text not in NOT_SHOWN:
                    found.append((f"{rel}: {name}", text))
    return found, missing


# ---- reading the catalogue ----

FENCE = re.compile(r"^\s*(```|~~~)")
ENTRY = re.compile(r"^\s*[-*]\s+(?:(details):\s*)?(`+)(.+?)(?<!`)\2(?!`)(.*)$")


def doc_entries(text: str) -> list[DocEntry]:
    entries, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        m = None if fenced else ENTRY.match(line)
        if not m:
            continue
        body = m.group(3)
        if len(body) > 1 and body.startswith(" ") and body.endswith(" ") and body.strip():
            body = body[1:-1]
        said = re.match(r"\s*\(([^)]*)\)", m.group(4))
        codes = [int(c) for c in re.findall(r"\b\d+\b", said.group(1))] if said else []
        entries.append(DocEntry(number, m.group(1) or "message", body, codes, said.group(1) if said else None))
    return entries


# ---- the tests ----

def fail(title: str, lines: list[str]) -> None:
    pytest.fail(title + "\n  " + "\n  ".join(lines), pytrace=False)


@pytest.fixture(scope="module")
def in_code() -> list[CodeMessage]:
    messages, unreadable = code_messages()
    if unreadable:
        fail("these calls make a message this test cannot read (the format is not a string literal): "
             "make it one, or teach BUILDERS in this file how the message is made", unreadable)
    return messages


@pytest.fixture(scope="module")
def in_doc() -> list[DocEntry]:
    assert CATALOGUE.is_file(), f"{CATALOGUE} is missing"
    return doc_entries(CATALOGUE.read_text())


def suggestion(m: CodeMessage) -> str:
    """The list item for docs/errors.md, its <?> to be named."""
    label = "details: " if m.kind == "details" else ""
    code = "" if m.kind == "details" else f" ({m.code})" if m.code is not None else " (CODE)"
    text = readable(m.text).replace("\n", "\\n")
    span = f"`` {text} ``" if "`" in text else f"`{text}`"
    return f"- {label}{span}{code}"


def test_the_code_has_messages(in_code: list[CodeMessage]) -> None:
    # The extraction itself works: a sample of what it must find.
    keys = {m.key for m in in_code}
    for fmt in ("no DHCPOFFER after %u DHCPDISCOVER%s in %llu s", "cannot reach the dhcp daemon at %s: %s",
                "%s on %s (pod netns %s)", 'master interface "%s" not found in %s',
                "permission denied: DHCP.GC releases every lease of a network"):
        assert canonical_c(fmt) in keys, f"the extraction missed {fmt!r}"
    assert len(in_code) > 150


def test_every_message_in_the_code_is_catalogued(in_code: list[CodeMessage], in_doc: list[DocEntry]) -> None:
    documented = {(e.kind, e.key) for e in in_doc}
    missing = [m for m in in_code if (m.kind, m.key) not in documented]
    if missing:
        fail(f"{len(missing)} message(s) a runtime can get are not in docs/errors.md: add each (naming every <?>), "
             "with its cause and what to do, in the section it belongs to",
             [f"{m.where}: {m.builder}\n    {suggestion(m)}" for m in missing])


def test_every_catalogue_entry_is_in_the_code(in_code: list[CodeMessage], in_doc: list[DocEntry]) -> None:
    made = {(m.kind, m.key) for m in in_code}
    stale = [e for e in in_doc if (e.kind, e.key) not in made]
    if stale:
        fail("docs/errors.md lists message(s) the code no longer makes (changed or removed): update or delete them",
             [f"docs/errors.md:{e.line}: {'details: ' if e.kind == 'details' else ''}`{e.text}`" for e in stale])


def test_catalogued_codes_are_the_codes(in_code: list[CodeMessage], in_doc: list[DocEntry]) -> None:
    known = set(error_codes().values())
    by_key: dict[str, list[CodeMessage]] = {}
    for m in in_code:
        if m.kind == "message":
            by_key.setdefault(m.key, []).append(m)
    problems = []
    for e in in_doc:
        if e.kind != "message":
            continue
        made = by_key.get(e.key, [])
        where = f"docs/errors.md:{e.line}: `{e.text}`"
        if e.said is None:
            problems.append(f"{where}: give its code in parentheses after the message")
        elif not e.codes and any(m.code is not None for m in made):
            problems.append(f"{where}: ({e.said}) names no code")
        problems += [f"{where}: {c} is not a code of src/cni/error.h" for c in e.codes if c not in known]
        problems += [f"{where}: code {m.code} is missing, which {m.where} makes it with"
                     for m in made if m.code is not None and m.code not in e.codes]
    if problems:
        fail("codes in docs/errors.md disagree with the code:", problems)


def test_every_reason_is_catalogued() -> None:
    reasons, missing = reason_strings()
    if missing:
        fail("functions named in REASONS of this test are gone (renamed?): update REASONS", missing)
    assert len(reasons) > 20
    text = CATALOGUE.read_text()
    spans = {" ".join(m.group(2).split()) for m in re.finditer(r"(`+)(.+?)(?<!`)\1(?!`)", text, re.S)}
    absent = [f"{where}: `{reason}`" for where, reason in reasons if " ".join(reason.split()) not in spans]
    if absent:
        fail("reasons that end up in a message are not in docs/errors.md: give each in a code span where the "
             "message it completes is described", absent)


def test_catalogue_entries_are_unique(in_doc: list[DocEntry]) -> None:
    seen: dict[tuple[str, str], int] = {}
    dups = []
    for e in in_doc:
        if (e.kind, e.key) in seen:
            dups.append(f"docs/errors.md:{e.line}: `{e.text}` is already at line {seen[(e.kind, e.key)]}")
        seen.setdefault((e.kind, e.key), e.line)
    if dups:
        fail("one entry per message (give a message's other causes in that entry):", dups)
