"""The Training page's setup form, the live run, the results after it, and one step in slow motion."""
