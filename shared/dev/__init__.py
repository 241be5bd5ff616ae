"""Embedded-default infrastructure for `make run` and tests: the Tansu broker and a Maildir SMTP server."""
