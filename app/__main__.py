"""``python -m app``: serve the dashboard (see ``python -m app --help``)."""

from app.launch import launch, parse_args
from app.privacy import remove_cache_on_signals

if __name__ == "__main__":
    remove_cache_on_signals()
    launch(parse_args())
