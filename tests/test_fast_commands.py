"""Fast commands (issue 15, item 3): a command loads only what it needs.

Start-up time is measured by bench/startup_bench.py; these tests check the behaviour behind
it, in a fresh interpreter each: which modules are loaded after parsing a command line, after
`--version`, and after a whole no-op `wikipeer sync`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from wikipeer.cli.main import build_parser, load_command

from conftest import cli_env, run_cli, start_server, stop_server

# Libraries that take tens of milliseconds to load and that only some commands use.
HEAVY = ("fastapi", "starlette", "uvicorn", "jinja2", "lxml", "PIL", "lupa", "re2", "libipld", "nacl",
         "zstandard", "httpx", "rich", "xml")
# Of those, the ones a sync has no use for: the peer client speaks HTTP through the standard library
# (net/transport.py), not httpx, which loaded its own command line (click, rich, pygments); the
# standard library's XML parser is only for checking SVG files. A sync does load re2 (the node's
# blocklists), libipld, nacl and zstandard.
NOT_FOR_SYNC = ("fastapi", "starlette", "uvicorn", "jinja2", "lxml", "PIL", "lupa", "httpx", "rich", "xml")


def _loaded_after(code: str) -> list[str]:
    """The HEAVY top-level packages loaded once ``code`` has run in a fresh interpreter."""
    script = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps(sorted({{name.split('.')[0] for name in sys.modules}} & set({HEAVY!r}))))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=cli_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_parsing_any_command_loads_no_heavy_library():
    loaded = _loaded_after("""
        from wikipeer.cli.main import build_parser
        parser = build_parser()
        for line in (["sync"], ["stats"], ["serve"], ["import", "x.xml"], ["backup", "run", "t"], ["peer", "list"]):
            parser.parse_args(["--node", "n", *line])
    """)
    assert loaded == []


def test_version_loads_no_heavy_library():
    loaded = _loaded_after("""
        import contextlib, io
        from wikipeer.cli.main import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                main(["--version"])
            except SystemExit as exc:
                assert exc.code == 0
        assert out.getvalue().startswith("wikipeer ")
    """)
    assert loaded == []


def test_every_command_names_a_function_that_exists():
    """A misspelt "module:function" would only show when that command runs: load them all."""
    names = []

    def walk(parser) -> None:
        for action in parser._actions:
            if action.choices and hasattr(action, "_name_parser_map"):
                for sub in action._name_parser_map.values():
                    walk(sub)
        target = parser.get_default("func")
        if target:
            names.append(target)
            assert callable(load_command(target)), target

    walk(build_parser())
    assert len(names) > 40
    assert all(isinstance(n, str) and ":" in n for n in names)


def test_no_op_sync_loads_only_what_a_sync_needs(tmp_path, sample_node):
    clone = tmp_path / "clone"
    assert run_cli(clone, "init").code == 0
    proc, client = start_server(sample_node)
    try:
        url = str(client.base_url).rstrip("/")
        assert run_cli(clone, "peer", "add", url).code == 0
        first = run_cli(clone, "sync")
        assert first.code == 0, str(first)
        loaded = _loaded_after(f"""
            import contextlib, io
            from wikipeer.cli.main import main
            with contextlib.redirect_stdout(io.StringIO()) as out:
                assert main(["--node", {str(clone)!r}, "sync"]) == 0
            assert " 0 new" in out.getvalue(), out.getvalue()
        """)
    finally:
        stop_server(proc, client)
    assert "zstandard" in loaded  # it did read the peer's (empty) log
    assert [name for name in loaded if name in NOT_FOR_SYNC] == []


def test_plain_lines_print_as_they_are(node_dir):
    """Lines go to stdout unchanged: a summary with ':smile:' in it is not turned into an emoji."""
    edited = run_cli(node_dir, "edit", "w", "Page", "--summary", "first :smile: try", input="text")
    assert edited.code == 0, str(edited)
    history = run_cli(node_dir, "history", "w", "Page")
    assert history.code == 0, str(history)
    assert history.out.rstrip().endswith("first :smile: try"), str(history)


def test_a_reader_that_goes_away_is_not_an_error(sample_node):
    """`wikipeer history ... | head -1`: the closed pipe ends the command quietly with exit 0."""
    proc = subprocess.Popen([sys.executable, "-m", "wikipeer.cli.main", "--node", str(sample_node), "history",
                             "wikipeer", "Main Page"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli_env())
    proc.stdout.close()  # before the interpreter has started: its first line meets a closed pipe
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert err == ""


def test_a_plain_http_peer_loads_no_ca_store():
    """The CA store costs a sync tens of milliseconds and plain http has no use for it; https keeps it."""
    from wikipeer.net import client

    client.tls_context.cache_clear()
    with client.PeerClient("http://127.0.0.1:9"):
        assert client.tls_context.cache_info().currsize == 0
    with client.PeerClient("https://127.0.0.1:9"):
        assert client.tls_context.cache_info().currsize == 1
