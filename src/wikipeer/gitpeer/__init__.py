"""git as a peer (docs/git.md): the page layout, commit trailers, commits built from the store, the node's bare
repositories, and offline verification. Above store/, beside net/: web/git_http.py serves what it builds."""
