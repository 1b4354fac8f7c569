"""How much history a partial node fetches per page unless told (its own module so the CLI's argument parser can show it without loading the fetch code)."""

DEFAULT_DEPTH = 10
