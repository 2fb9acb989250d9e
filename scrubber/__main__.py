"""``python -m scrubber``: the ``scrub`` command, for environments where its script is not on PATH
(a virtual environment not activated, a job runner calling the interpreter)."""

from scrubber.cli import main

if __name__ == "__main__":  # (imported, by pydoc or a package walk, it runs nothing)
    main(prog_name="scrub")
