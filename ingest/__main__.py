"""``python -m ingest`` is ``pva ingest``."""

from ingest.command import main

if __name__ == "__main__":
    main()
