"""Media files served to readers: thumbnails made on demand and their disk cache."""
