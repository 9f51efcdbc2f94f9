from secpolicy.entry import main

raise SystemExit(main())
