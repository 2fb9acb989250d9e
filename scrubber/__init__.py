"""scrubber: a pre-submission claim scrubber and post-payment auditor for infusion and injection claims."""

__version__ = "0.1.0"
