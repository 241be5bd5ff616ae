"""The project's own common library: the only code services import besides their own."""
