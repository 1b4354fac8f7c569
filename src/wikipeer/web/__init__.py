"""The reader's web page, served by FastAPI; it reads through the store's API."""
