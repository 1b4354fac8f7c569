"""``git-remote-wikipeer``: git's remote helper for ``wikipeer::http://HOST:PORT/WIKI`` (docs/git.md).

git runs it with the remote's name and address and talks to it over stdin and
stdout (``man gitremote-helpers``). Listing and fetching go to the node's
smart-HTTP repository through git itself; a push is signed here, with the
user's own key, and sent to the node as blocks (gitpeer/remote_push.py).

A WikipeerError ends the helper with one ``error: ...`` line and no traceback:
git shows what the helper printed on stderr as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from wikipeer.errors import UserError, WikipeerError
from wikipeer.gitpeer.git_command import GitFailed, run_git
from wikipeer.gitpeer.remote_url import RemoteUrl, parse_remote_url

CAPABILITIES = ("fetch", "push", "option")
EXIT_ERROR = 128  # what git itself exits with on a fatal error


@dataclass(slots=True)
class Session:
    """One conversation with git: the remote, the options git set and the refs last listed."""

    remote: RemoteUrl
    name: str
    git_dir: Path | None
    verbosity: int = 1
    progress: bool = False
    depth: int | None = None
    refs: dict[str, str] = field(default_factory=dict)

    def say(self, line: str) -> None:
        """A line for the user (git passes the helper's stderr through), unless git was told --quiet."""
        if self.verbosity > 0:
            print(f"wikipeer: {line}", file=sys.stderr, flush=True)


def list_refs(session: Session) -> list[str]:
    """The node's refs as the helper protocol lists them: ``SHA NAME`` lines, HEAD as a symref."""
    try:
        listed = run_git(["ls-remote", "--symref", session.remote.git], session.git_dir).stdout
    except GitFailed as exc:
        raise GitFailed(f"cannot list wiki {session.remote.wiki!r} of the node at {session.remote.node}: {exc}") from None
    symrefs: dict[str, str] = {}
    session.refs = {}
    for row in listed.splitlines():
        value, _, name = row.partition("\t")
        if value.startswith("ref: "):
            symrefs[name] = value.removeprefix("ref: ")
        else:
            session.refs[name] = value
    return [f"@{symrefs[name]} {name}" if name in symrefs else f"{value} {name}" for name, value in session.refs.items()]


def fetch(session: Session, wanted: list[str]) -> None:
    """Bring the wanted commits' objects into the repository with git's own smart-HTTP client."""
    args = ["-c", "gc.auto=0", "fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules"]
    args.append("--progress" if session.progress else "--quiet")
    if session.depth is not None:
        args.append(f"--depth={session.depth}")
    # git's stdout is this protocol's channel: the inner fetch writes to our stderr only.
    run_git([*args, session.remote.git, *sorted(set(wanted))], session.git_dir, stdout=sys.stderr,
            show_stderr=session.progress)


def set_option(session: Session, name: str, value: str) -> str:
    """Take an option git sets; the answer line the protocol wants."""
    if name == "verbosity" and value.lstrip("-").isdigit():
        session.verbosity = int(value)
    elif name == "progress":
        session.progress = value == "true"
    elif name == "depth" and value.isdigit():
        session.depth = int(value)
    else:
        return "unsupported"
    return "ok"


def batch(lines: Iterator[str], first: str) -> list[str]:
    """A batch of commands (fetch or push) beginning with ``first``, up to its blank line."""
    commands = [first]
    for line in lines:
        if not line:
            break
        commands.append(line)
    return commands


def serve(session: Session, lines: Iterator[str], write: Callable[[str], None]) -> None:
    """Answer git's commands until it ends the conversation (a blank line or end of input)."""
    for line in lines:
        if not line:
            return
        command, _, rest = line.partition(" ")
        if command == "capabilities":
            write(_answer(CAPABILITIES))
        elif command == "list":
            write(_answer(list_refs(session)))
        elif command == "option":
            name, _, value = rest.partition(" ")
            write(set_option(session, name, value) + "\n")
        elif command == "fetch":
            wanted = [c.split(" ")[1] for c in batch(lines, line) if c.startswith("fetch ")]
            fetch(session, wanted)
            write("\n")
        elif command == "push":
            write(_answer(push_batch(session, batch(lines, line))))
        else:
            raise UserError(f"git asked for {command!r}, which git-remote-wikipeer does not do")


def push_batch(session: Session, commands: list[str]) -> list[str]:
    """Sign and send a batch of pushes (gitpeer/remote_push.py); the protocol's status lines."""
    from wikipeer.gitpeer.remote_push import push  # the store, keys and HTTP client: only a push needs them

    if session.git_dir is None:
        raise UserError("git asked for a push outside a repository")
    if not session.refs:
        list_refs(session)  # git lists for a push first; a caller that did not still gets the node's tips
    return push(session.remote, session.name, session.git_dir, session.refs, commands, session.say)


def git_dir() -> Path | None:
    """The repository git runs the helper for (GIT_DIR, set by git; else the one around the directory).

    None outside a repository: ``git ls-remote wikipeer::URL`` needs none.
    """
    env = os.environ.get("GIT_DIR")
    if env:
        return Path(env)
    found = run_git(["rev-parse", "--absolute-git-dir"], check=False)
    return Path(found.stdout.strip()) if found.returncode == 0 else None


def _answer(lines: Iterable[str]) -> str:
    """Lines of an answer, then the blank line that ends it (alone when there are none: no refs)."""
    return "".join(f"{line}\n" for line in lines) + "\n"


def _lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\n")


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``git-remote-wikipeer REMOTE URL`` (git gives the URL without ``wikipeer::``)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: git-remote-wikipeer REMOTE [URL] (git runs it for wikipeer:: remotes: "
              "git clone wikipeer::http://HOST:PORT/WIKI)", file=sys.stderr)
        return 2
    try:
        session = Session(parse_remote_url(args[-1]), args[0], git_dir())
        serve(session, _lines(sys.stdin), _write)
    except WikipeerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted; an upload cut off is not taken by the node (git pull shows what it holds)",
              file=sys.stderr)
        return 130
    except BrokenPipeError:  # git went away (it failed or was interrupted): nothing to tell it
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
