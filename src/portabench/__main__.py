from portabench.cli import main

raise SystemExit(main())
