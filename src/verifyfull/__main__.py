from verifyfull.cli import main

main()
