"""assessment: the question bank, timed test sessions and scores (port 8003)."""
