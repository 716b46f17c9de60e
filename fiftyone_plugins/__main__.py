"""``python -m fiftyone_plugins`` runs the CLI."""

from .cli import run

if __name__ == "__main__":
    run()
