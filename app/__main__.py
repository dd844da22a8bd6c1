"""``python -m app``: serve the dashboard (see ``python -m app --help``)."""

from app.launch import launch, parse_args

if __name__ == "__main__":
    launch(parse_args())
