"""The grants a bot password can carry, with what each allows (their own module so the CLI's argument parser can list them without loading the account store)."""

GRANTS = {
    "basic": "read pages and ask who is logged in (every bot password has it)",
    "editpage": "edit and create pages, signed with the account's key",
    "highvolume": "act as a bot: the bot right, and the API's higher limits",
}
DEFAULT_GRANTS = frozenset(GRANTS)
