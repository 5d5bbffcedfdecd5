from acr_console.cli.main import entry

entry()
