from salesmcp.cli import main

main()
