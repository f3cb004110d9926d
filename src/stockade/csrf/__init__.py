"""CSRF protection for routes where browsers send credentials on their own."""
