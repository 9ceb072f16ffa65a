"""The web application: HTML pages and the JSON API."""
