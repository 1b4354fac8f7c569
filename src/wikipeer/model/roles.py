"""The roles a member can hold in a community's trust list (their own module so the CLI's argument parser can offer them without loading the object schema)."""

MEMBER_ROLES = ("editor", "reviewer", "node")
