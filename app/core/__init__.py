"""Configuration and database access for the example application."""
