"""The dashboard's pages, one module each; ``routes(dash)`` lists (path, method, handler)."""
