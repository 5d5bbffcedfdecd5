from acr_console.cli.main import main

raise SystemExit(main())
