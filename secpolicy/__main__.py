from secpolicy.cli import main

raise SystemExit(main())
