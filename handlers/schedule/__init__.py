"""Planning features (issue 5): topics, scheduled posts and quiet hours, activities, welcome.

Four features share this package's parsers and helpers; ``handlers/__init__.py`` lists them.
"""
