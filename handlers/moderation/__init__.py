"""Keyword moderation with red/yellow/blue levels and the moderator's toolkit."""
