"""The Azure layer: one client factory and the reads and writes against Azure. No Textual here."""

import sys

# httpx's __init__ imports its own command-line tool whenever click, rich and pygments are installed,
# as they always are beside the console (uvicorn needs click, textual needs rich): ~60 ms on every
# command's path to its first request, for a tool the console never runs (encode/httpx#3547). A None
# entry makes that optional import fail at once, exactly as it does where they are not installed.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None is the documented "absent" entry
