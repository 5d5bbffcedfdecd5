"""The Azure layer: one client factory and the reads and writes against Azure. No Textual here."""
