"""A demo step module that forgot its entry point."""
