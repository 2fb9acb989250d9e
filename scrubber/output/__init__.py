"""Writers for a :class:`scrubber.engine.ScrubResult`: JSON, CSV, terminal table, HTML report."""
