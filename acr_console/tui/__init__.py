"""The Textual front end. Screens and widgets talk to the layers below, never to an SDK."""
