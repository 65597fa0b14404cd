from apirec.cli.app import main

raise SystemExit(main())
