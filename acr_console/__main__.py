from acr_console.main import entry

entry()
