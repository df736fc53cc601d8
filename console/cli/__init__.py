"""The command-line tools of the console (`python -m console.X` calls the `main` here)."""
