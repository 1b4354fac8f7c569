"""What the words of the sync, bundle and stick reports mean: the ``--help`` epilogs of those commands.

docs/protocol.md and docs/offline.md define the same words; the exit codes are those of docs/architecture.md.
Plain strings only: every command's parser is built at start-up.
"""

from __future__ import annotations

_TAKING = """\
  new           objects this node did not have and has now stored
  already here  objects this node had before: nothing changed
  held          objects that arrived before something they need (a parent revision, a text,
                a file's chunks); kept aside, taken as soon as that comes, dropped after
                held_days (7 by default); 'wikipeer stats' lists them
  refused       objects checked and not stored, each with its reason (a signature that does
                not verify, a blocklisted text, a limit, what fell with a refused revision)"""

SYNC = f"""\
what the report says:
{_TAKING}
  sent          objects this node uploaded to the peer; in brackets what the peer made of
                them: "new there", "already there", "held there", "refused there" (the
                peer's reasons follow, or "no reason given" from a peer too old to send them)

exit status: 0 done; 1 a peer failed or refused something this node sent (the lines say
which and why); 2 a usage error (no peers, a bad argument)."""

BUNDLE_IMPORT = f"""\
what the report says:
{_TAKING}

exit status: 0 done; 1 something was refused (the "refused:" lines say why); 2 the bundle
was refused whole (damaged, cut off, altered), nothing taken."""

STICK = f"""\
what the report says:
  carried out   (home) edits signed here, written to the stick's outbox
  refused there (home) objects of the edits carried last time that the connected node
                refused, from its answer on the stick; "note: refused there:" lines say why
  brought back  (home) pages and revisions taken from the stick's answers; "(N refused)"
                counts the objects this node refused, "note: ...: refused here:" says why
  taken in      (serve) edits from the stick this node stored; "refused" ones are not
                stored, and the "note:" lines give the reasons
  written back  (serve) pages, revisions and files written to the stick for home
  met, waiting  (home) requests answered, and those that go out again with the next trip
The words for objects, as in a sync:
{_TAKING}

exit status: 0 done; 1 something was refused ('stick serve': some of the stick's edits;
'stick home': some of what came back, or the connected node refused some of the edits
carried last time); 2 a usage error."""
