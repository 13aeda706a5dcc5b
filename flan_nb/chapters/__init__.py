"""One module per notebook: its config class, its figures and its chapter-only helpers."""
